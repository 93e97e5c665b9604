"""What the worker tells people: notification models and the outbox it writes them to (the gateway reads
and delivers them; see channels/notify)."""
