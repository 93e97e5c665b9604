"""The words of a weekly digest (no I/O: the compose activity gathers the facts)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from assistant.directory import User
from workflows.models import ApprovalStep, RequestStatus, RequestSummary
from workflows.summary import KIND_LABELS, describe_summary, local_time

MAX_LINES = 10  # per section: a digest is a glance; "my requests" and "pending approvals" list the rest
HOW_TO_STOP = ("Don't want this weekly digest? Untick \"Weekly digest\" under \"Requests & approvals\" "
               "on the assistant's web page.")


def digest_text(user: User, *, sent_at: datetime, open_requests: list[RequestSummary],
                waiting: list[tuple[RequestStatus, ApprovalStep]], finished: list[RequestSummary]) -> str:
    """Open requests, approvals waiting for the person and what finished in the week, then how to stop it.

    With nothing in any section the digest is one line that says so (people learn it still runs).
    """
    day = sent_at.astimezone(ZoneInfo(user.timezone) if user.timezone else UTC).strftime("%A %-d %B")
    lines = [f"Your weekly digest, {day}."]
    if not (open_requests or waiting or finished):
        lines.append("Nothing open, nothing waiting for your decision, nothing finished in the last 7 days.")
    if open_requests:
        lines.append(f"Open requests ({len(open_requests)}):")
        lines += _bullets([describe_summary(r, user) for r in open_requests])
    if waiting:
        lines.append(f"Waiting for your decision ({len(waiting)}), say \"pending approvals\" to decide:")
        lines += _bullets([f"{st.request_id}: {st.requester}'s {KIND_LABELS.get(st.kind, st.kind)}, "
                           f"{st.describe()}, since {local_time(step.requested_at, user)}" for st, step in waiting])
    if finished:
        lines.append(f"Finished in the last 7 days ({len(finished)}):")
        lines += _bullets([describe_summary(r, user) for r in finished])
    lines.append(HOW_TO_STOP)
    return "\n".join(lines)


def _bullets(items: list[str]) -> list[str]:
    out = [f"- {item}" for item in items[:MAX_LINES]]
    if len(items) > MAX_LINES:
        out.append(f"- and {len(items) - MAX_LINES} more")
    return out
