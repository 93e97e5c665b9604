"""The gateway: web widget, API, Slack and Teams."""
