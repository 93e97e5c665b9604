"""Microsoft Teams: the assistant in personal chats and channels, Adaptive Cards, proactive messages."""
