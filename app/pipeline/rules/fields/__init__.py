"""The fields a rule may test: types and built-in fields, the registry, discovery from a library."""
