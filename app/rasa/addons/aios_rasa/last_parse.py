"""The intent Rasa read in each conversation's latest turn, handed from the tracker store to the channel.

The tracker store saves the tracker at the end of a turn, in the process that answers it, before
the channel writes its reply; the channel puts the intent and its confidence in a reply header
(`X-AIOS-NLU`) so the gateway can count them without reading the tracker again.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Dict, Optional, Text, Tuple

HEADER = "X-AIOS-NLU"
FALLBACK = "nlu_fallback"
_KEEP = 10_000
# sender -> (intent, confidence, the runner-up a fallback stands for, or "")
_latest: "OrderedDict[Text, Tuple[Text, float, Text]]" = OrderedDict()


def remember(sender_id: Text, parse_data: Optional[Dict[Text, Any]]) -> None:
    intent = (parse_data or {}).get("intent") or {}
    name = intent.get("name")
    if not name:
        return
    candidate = ""
    if name == FALLBACK:  # the intent the classifier leaned to, under the threshold or too close to call
        ranked = [r.get("name") for r in (parse_data or {}).get("intent_ranking") or [] if isinstance(r, dict)]
        candidate = next((str(r) for r in ranked if r and r != FALLBACK), "")
    _latest[sender_id] = (str(name), float(intent.get("confidence") or 0.0), candidate)
    _latest.move_to_end(sender_id)
    while len(_latest) > _KEEP:
        _latest.popitem(last=False)


def take(sender_id: Text) -> Optional[Text]:
    """`intent;confidence=0.93` (a fallback adds `;candidate=<intent>`) for the header, once; None when
    this turn saved no intent."""
    found = _latest.pop(sender_id, None)
    if found is None:
        return None
    name, confidence, candidate = found
    return f"{name};confidence={confidence:.4f}" + (f";candidate={candidate}" if candidate else "")
