"""The sentence or table row that answers the question, so a reply can lead with the fact.

Within the best passages, each sentence (a table row is one line, with its column headings; see
`knowledge.parsing.types.table_row`) is scored by its similarity to the question, plus cues from
the kind of question: "how many" wants a number, "how long" a duration, "what time"/"when" a time
or a date, "who" a role; a number in the question that falls in a row's range ("after 4
years" in "3 to 5 years") picks that row over its neighbours; the question's own words count,
and the retrieval's better passages win close calls. (Weights tuned on data/eval/knowledge.yml.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.answering.excerpts import Excerpt
from knowledge.lexical import terms

_NUMBER_WORDS = r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|hundred"
_UNITS = r"minutes?|hours?|days?|weeks?|months?|years?|nights?|working days?|business days?|characters?"
MONTHS = (r"january|february|march|april|may|june|july|august|september|october|november|december|"
           r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
WEEKDAYS = r"monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_DAYS = rf"{WEEKDAYS}|weekday|weekend"

_WANTS: list[tuple[str, re.Pattern[str]]] = [
    ("duration", re.compile(r"\bhow long\b|\bfor how (?:many|long)\b|\bhow many (?:days|weeks|months|hours|years)\b"
                            r"|\bhow much (?:time|notice)\b", re.I)),
    ("number", re.compile(r"\bhow (?:many|much|high|big|often)\b|\bwhat(?:'s| is| are) the (?:maximum|minimum|max|min"
                          r"|limit|cap|amount|rate|budget|allowance)\b|\bup to\b|\blimit\b", re.I)),
    # "when" asks for a time as the question's own word ("when do I...", "...start when?"), not as a
    # conjunction ("what is the per diem when travelling abroad").
    ("time", re.compile(r"\bwhat time\b|^\W*when\b|\bwhen (?:do|does|did|is|are|was|will|can|should|must)\b"
                        r"|\bwhen\?|\bwhich (?:day|date|month)\b|\bwhat (?:day|date)\b|\bby when\b"
                        r"|\buntil when\b|\bdeadline\b|\bhow early\b|\bhow late\b", re.I)),
    ("who", re.compile(r"\bwho\b|\bwhom\b|\bwhich (?:team|person|department)\b|\bwho(?:'s| is) responsible\b",
                       re.I)),
]
_HAS: dict[str, re.Pattern[str]] = {
    # "5 days", "five working days", "5 paid days" (one word may come between).
    "duration": re.compile(rf"\b(?:\d+(?:[.,]\d+)?|{_NUMBER_WORDS})[\s-]*(?:\w+\s+)?(?:{_UNITS})\b", re.I),
    "number": re.compile(rf"\d|\b(?:{_NUMBER_WORDS})\b", re.I),
    "time": re.compile(rf"\b\d{{1,2}}(?::\d{{2}})?\s*(?:am|pm|a\.m\.|p\.m\.)|\b\d{{1,2}}:\d{{2}}\b|\b(?:{MONTHS})\b"
                       rf"|\b(?:{_DAYS})s?\b|\bnoon\b|\bmidnight\b|\b\d{{1,2}}(?:st|nd|rd|th)\b|\bbefore\b|\bafter\b"
                       rf"|\bwithin\b|\bby the\b", re.I),
    "who": re.compile(r"\b(?:manager|team|ops|hr|people|desk|department|lead|admin|finance|it|security|support|"
                      r"owner|approver|director|payroll|helpdesk|service desk|contact|email)\b", re.I),
}
TYPE_BONUS = 0.12
RANGE_BONUS = 0.25
WORDS_WEIGHT = 0.15
TYPED_MARGIN = 0.15
VALUE_KINDS = ("number", "duration", "time")  # kinds of fact that are values
PASSAGE_PENALTY = 0.15

_QUESTION_NUMBER = re.compile(r"\b(\d+(?:[.,]\d+)?)\s*(?:" + _UNITS + r")?", re.I)
_BETWEEN = re.compile(r"\b(\d+(?:[.,]\d+)?)\s*(?:to|-|–|and)\s*(\d+(?:[.,]\d+)?)\b")
_BELOW = re.compile(r"\b(?:less than|fewer than|under|below|up to)\s*(\d+(?:[.,]\d+)?)\b", re.I)
_ABOVE = re.compile(r"\b(?:more than|over|above|at least|from)\s*(\d+(?:[.,]\d+)?)\b|\b(\d+(?:[.,]\d+)?)\s*\+", re.I)


def wanted(question: str) -> str | None:
    """The kind of fact the question asks for: duration, number, time, who; None for others."""
    return next((kind for kind, pattern in _WANTS if pattern.search(question)), None)


def states(kind: str, sentence: str) -> bool:
    """The sentence states a fact of that kind (a number, a duration, a time or date, a role)."""
    return bool(_HAS[kind].search(sentence))


def _num(text: str) -> float:
    return float(text.replace(",", "."))


def in_range(question: str, sentence: str) -> bool:
    """A number of the question falls in a range the sentence states ("3 to 5 years", "less than 3")."""
    asked = [_num(m.group(1)) for m in _QUESTION_NUMBER.finditer(question)]
    asked = [n for n in asked if n < 1000]  # not a year
    if not asked:
        return False
    for n in asked:
        if any(_num(a) <= n <= _num(b) for a, b in _BETWEEN.findall(sentence)):
            return True
        if any(n < _num(x) for x in _BELOW.findall(sentence)):
            return True
        if any(n > _num(a or b) for a, b in _ABOVE.findall(sentence)):
            return True
    return False


@dataclass(frozen=True)
class Pinpoint:
    position: int  # which excerpt (0 = the best passage)
    sentence: str
    score: float


def pinpoint(question: str, cut: list[Excerpt], headings: list[str] | None = None) -> Pinpoint | None:
    """The best sentence of the passages for `question`, or None when there are none.

    `headings` (one per passage, e.g. "Onboarding guide Mandatory training") count with each of the
    passage's sentences: "which trainings are mandatory?" is answered under "Mandatory training".
    """
    kind = wanted(question)
    asked = set(terms(question))
    best: Pinpoint | None = None
    typed: Pinpoint | None = None
    for position, excerpt in enumerate(cut):
        heading = set(terms(headings[position])) if headings and position < len(headings) else set()
        for sentence, similarity in zip(excerpt.sentences, excerpt.question_similarity, strict=True):
            # Meaning, the question's own words, and the retrieval's order of the passages.
            overlap = len(asked & (set(terms(sentence)) | heading)) / len(asked) if asked else 0.0
            score = float(similarity) + WORDS_WEIGHT * overlap - PASSAGE_PENALTY * position
            if kind is not None and states(kind, sentence):
                score += TYPE_BONUS
            if kind in ("number", "duration", None) and in_range(question, sentence):
                score += RANGE_BONUS
            if best is None or score > best.score:
                best = Pinpoint(position, sentence, score)
            if kind in VALUE_KINDS and states(kind, sentence) and (typed is None or score > typed.score):
                typed = Pinpoint(position, sentence, score)
    # "How long / how many / when" is answered by a sentence that states such a value, when one is
    # nearly as close as the best sentence overall.
    if typed is not None and best is not None and typed.score >= best.score - TYPED_MARGIN:
        return typed
    return best


def states_anywhere(kind: str, cut: list[Excerpt]) -> bool:
    """Some sentence of the passages states a value of that kind."""
    return any(states(kind, sentence) for excerpt in cut for sentence in excerpt.sentences)
