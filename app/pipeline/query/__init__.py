"""The library query: one page of the library table, filtered, sorted, with chosen columns."""
