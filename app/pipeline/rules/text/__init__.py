"""The rules text form: grammar, parser, tree builder, syntax errors and the canonical printer."""
