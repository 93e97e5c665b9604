"""Slack: the assistant in DMs, mentions, a slash command, App Home and approval cards (slack-bolt, async)."""
