"""Cross-cutting pieces every layer may use: settings, errors, logging, files, models."""
