"""Rules: rule sets as users manage them, their text form, fields, validation and the engine."""
