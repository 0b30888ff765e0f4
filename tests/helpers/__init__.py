"""Child-process scripts and shared builders for the crash and concurrency tests."""
