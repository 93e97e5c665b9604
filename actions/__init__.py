"""Rasa custom actions (rasa-sdk): forms, submissions, request queries."""
