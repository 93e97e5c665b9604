"""Channel-agnostic notifications: approval cards, card updates and messages to people.

Workflows post into a durable outbox (SQL); the gateway's dispatcher hands each notification to the
recipient's channel through a `Notifier`. The web widget reads its inbox directly; Slack and Teams
plug in as further notifiers.
"""

from workflows.notify.models import ApprovalCard, CardStatus, CardUpdate, MessageOut, Notification, NotifyBatch

__all__ = ["ApprovalCard", "CardStatus", "CardUpdate", "MessageOut", "Notification", "NotifyBatch"]
