"""`aios eval dialogue`: messages replayed through the real gateway, and what people experienced.

Each case is one typed message from one directory user, in a fresh conversation, sent to
`POST /api/chat` of a whole stack (Rasa, actions, knowledge, Temporal). What happened is read from
the replies and from Rasa's tracker (which actions ran, whether a form started), so the figures are
about routing as a person meets it:

- routing accuracy: knowledge questions answered from the documents, requests starting their form,
  the rest (greetings, status, approvals...) handled by neither;
- form-hijack rate: knowledge questions that started a request form without the person choosing it;
- arbitration: questions that read as a request and how they were settled (answered with a
  button to start the request, or one clarifying question);
- fact containment and right-document rate on answerable questions; "don't know" precision and
  recall on the unanswerable ones.

The sets (data/eval/independent/dialogue.yml) are written independently of the training data and
of every threshold.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from assistant.errors import ConfigurationError

FORMS = frozenset({"time_off_form", "access_form", "expense_form", "it_issue_form"})
ROUTES = ("knowledge", "form", "clarify", "other")


@dataclass(frozen=True)
class Case:
    id: str
    user: str
    message: str
    expect: str  # knowledge | form | other
    intent: str | None = None
    answerable: bool | None = None
    document: str | None = None
    fact: str | None = None


@dataclass
class Outcome:
    case: Case
    route: str  # knowledge | form | clarify | other
    text: str
    documents: list[str]
    answer_kind: str | None  # answer | fallback | dont_know, when the documents were asked
    arbitration: str | None  # answered | clarified, when a request-looking question was arbitrated
    actions: list[str] = field(default_factory=list)

    @property
    def routed_right(self) -> bool:
        return self.route == self.case.expect

    @property
    def fact_found(self) -> bool:
        fact = self.case.fact
        return bool(fact and _norm(fact) in _norm(self.text))

    @property
    def right_document(self) -> bool:
        document = self.case.document
        return bool(document and _doc_id(document) in {_doc_id(d) for d in self.documents})

    @property
    def said_dont_know(self) -> bool:
        return self.answer_kind == "dont_know"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("’", "'")).strip().lower()


def _doc_id(name: str) -> str:
    return Path(name).stem.lower()


def load_cases(path: Path) -> list[Case]:
    data = yaml.safe_load(path.read_text())
    cases = [Case(**{k: v for k, v in c.items() if k in Case.__dataclass_fields__}) for c in data["cases"]]
    for case in cases:
        if case.expect not in ("knowledge", "form", "other"):
            raise ConfigurationError(f"{path}: case {case.id} expects {case.expect!r}")
        if case.fact is not None:
            object.__setattr__(case, "fact", str(case.fact))
    return cases


@dataclass
class Report:
    outcomes: list[Outcome]

    def _ratio(self, hits: int, n: int) -> float | None:
        return hits / n if n else None

    def figures(self) -> dict[str, Any]:
        o = self.outcomes
        questions = [x for x in o if x.case.expect == "knowledge"]
        answerable = [x for x in questions if x.case.answerable]
        unanswerable = [x for x in questions if x.case.answerable is False]
        said = [x for x in questions if x.said_dont_know]
        return {
            "cases": len(o),
            "routing_accuracy": self._ratio(sum(x.routed_right for x in o), len(o)),
            "form_hijack_rate": self._ratio(sum(x.route == "form" for x in questions), len(questions)),
            "questions_not_reaching_documents": sum(x.route != "knowledge" for x in questions),
            "fact_in_reply": self._ratio(sum(x.fact_found for x in answerable if x.case.fact),
                                         sum(1 for x in answerable if x.case.fact)),
            "right_document_cited": self._ratio(sum(x.right_document for x in answerable if x.case.document),
                                                sum(1 for x in answerable if x.case.document)),
            "dont_know_recall": self._ratio(sum(x.said_dont_know for x in unanswerable), len(unanswerable)),
            "dont_know_precision": self._ratio(sum(x.case.answerable is False for x in said), len(said)),
            "false_dont_know_rate": self._ratio(sum(x.said_dont_know for x in answerable), len(answerable)),
            "routes": dict(Counter(f"{x.case.expect}->{x.route}" for x in o)),
            "arbitrations": dict(Counter(f"{x.case.expect}:{x.arbitration}" for x in o if x.arbitration)),
        }

    def summary(self) -> str:
        f = self.figures()

        def pct(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.3f}"

        lines = [
            f"dialogue evaluation: {f['cases']} messages through the gateway",
            f"  routing accuracy {pct(f['routing_accuracy'])}; form hijacks {pct(f['form_hijack_rate'])} of "
            f"knowledge questions; {f['questions_not_reaching_documents']} questions did not reach the documents",
            f"  fact in reply {pct(f['fact_in_reply'])}; right document cited {pct(f['right_document_cited'])}",
            f"  don't know: recall {pct(f['dont_know_recall'])}, precision {pct(f['dont_know_precision'])}, "
            f"false on answerable {pct(f['false_dont_know_rate'])}",
            "  routes: " + ", ".join(f"{k} {v}" for k, v in sorted(f["routes"].items())),
            "  arbitrations: " + (", ".join(f"{k} {v}" for k, v in sorted(f["arbitrations"].items())) or "none"),
        ]
        wrong = [x for x in self.outcomes if not x.routed_right]
        if wrong:
            lines.append("  misrouted: " + "; ".join(f"{x.case.id} {x.case.expect}->{x.route}" for x in wrong))
        missed = [x for x in self.outcomes if x.case.answerable and x.case.fact and not x.fact_found]
        if missed:
            lines.append("  fact missing: " + ", ".join(x.case.id for x in missed))
        return "\n".join(lines)

    def write_json(self, path: Path) -> None:
        path.write_text(json.dumps({"figures": self.figures(), "outcomes": [
            {**asdict(x.case), "route": x.route, "answer_kind": x.answer_kind, "arbitration": x.arbitration,
             "documents": x.documents, "fact_found": x.fact_found, "right_document": x.right_document,
             "actions": x.actions, "reply": x.text} for x in self.outcomes]}, indent=2))


def _after_last_user_message(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    last = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    return events[last + 1:]


def classify(events: list[dict[str, Any]]) -> tuple[str, str | None, str | None, list[str]]:
    """(route, answer kind, arbitration, actions) from the tracker events that followed the message."""
    after = _after_last_user_message(events)
    actions = [e["name"] for e in after if e.get("event") == "action" and e.get("name") != "action_listen"]
    customs = [((e.get("data") or {}).get("custom") or {}) for e in after if e.get("event") == "bot"]
    kinds = [c["kind"] for c in customs if isinstance(c, dict) and c.get("kind")]
    arbitration = next((c["routing"] for c in customs if isinstance(c, dict) and c.get("routing")), None)
    if any(e.get("event") == "active_loop" and e.get("name") in FORMS for e in after):
        route = "form"
    elif arbitration == "answered":  # answered from the documents, whichever action did it
        route = "knowledge"
    elif arbitration == "clarified" or "action_clarify" in actions:
        route = "clarify"
    elif kinds or "action_answer_knowledge" in actions:
        route = "knowledge"
    else:
        route = "other"
    return route, (kinds[0] if kinds else None), arbitration, actions


async def replay(stack, cases: list[Case], *, pause: float = 0.0) -> Report:
    """Each case in a fresh conversation of its user, through the gateway; the outcomes."""
    s = stack.settings
    outcomes = []
    async with httpx.AsyncClient(timeout=180) as rasa:
        for case in cases:
            await stack.reset_conversation(case.user)
            async with stack.client(case.user) as gateway:
                messages = await _say(gateway, case.message)
            r = await rasa.get(f"{s.rasa.url}/conversations/{case.user}/tracker",
                               params={"token": s.rasa_auth_token(), "include_events": "AFTER_RESTART"})
            r.raise_for_status()
            route, kind, arbitration, actions = classify(r.json().get("events") or [])
            text = "\n".join(m.get("text") or "" for m in messages)
            documents = [src["document_id"] for m in messages for src in m.get("sources") or []]
            outcomes.append(Outcome(case=case, route=route, text=text, documents=documents, answer_kind=kind,
                                    arbitration=arbitration, actions=actions))
            if pause:
                await asyncio.sleep(pause)
    return Report(outcomes)


async def _say(gateway: httpx.AsyncClient, message: str) -> list[dict[str, Any]]:
    for _ in range(20):
        r = await gateway.post("/api/chat", json={"message": message})
        if r.status_code == 429:  # the per-person limit: wait as told, like a polite client
            await asyncio.sleep(float(r.headers.get("Retry-After", "5")))
            continue
        r.raise_for_status()
        return r.json()["messages"]
    raise RuntimeError(f"the gateway kept refusing {message!r} with 429")
