"""Jobs: the step registry, the background runner, recovery after a crash, and job queries."""
