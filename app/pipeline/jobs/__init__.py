"""Jobs: the step registry, the background runner, its change events, recovery after a crash,
and job queries."""
