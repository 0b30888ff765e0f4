"""Validating rule sets: their structure, each condition against the fields, references."""
