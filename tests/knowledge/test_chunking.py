"""Chunks stay inside their section, fit the model's token budget, and overlap their neighbours."""

from __future__ import annotations

from knowledge.chunking import chunk_document, heading_line
from knowledge.parsing.types import ParsedDocument, Section
from knowledge.sentences import split_sentences


def long_section(n: int) -> str:
    return " ".join(f"Rule number {i} says that badge {i} opens door {i} on floor {i % 7}." for i in range(n))


def test_chunks_fit_the_budget_and_never_cross_sections(embedder):
    doc = ParsedDocument("text/markdown", "Guide", (
        Section(("Guide", "Doors"), long_section(60)),
        Section(("Guide", "Lifts"), "Lifts are serviced every Monday."),
    ))
    chunks = chunk_document(doc, "Guide", embedder.count_tokens, size=80, overlap=16)
    assert len(chunks) > 5
    assert all(c.tokens <= 80 for c in chunks)
    # The heading is kept with its text: every chunk knows its section, and none mixes two.
    assert {c.section for c in chunks} == {"Doors", "Lifts"}
    assert all("Lifts are serviced" not in c.text for c in chunks if c.section == "Doors")
    assert [c.position for c in chunks] == list(range(len(chunks)))


def test_neighbouring_chunks_overlap(embedder):
    doc = ParsedDocument("text/plain", "Guide", (Section(("Doors",), long_section(40)),))
    chunks = chunk_document(doc, "Guide", embedder.count_tokens, size=80, overlap=20)
    for before, after in zip(chunks, chunks[1:], strict=False):
        last_sentence = split_sentences(before.text)[-1]
        assert last_sentence in after.text


def test_a_sentence_longer_than_the_budget_is_cut(embedder):
    doc = ParsedDocument("text/plain", "T", (Section(("S",), "word " * 400),))
    chunks = chunk_document(doc, "T", embedder.count_tokens, size=64, overlap=8)
    assert len(chunks) > 5 and all(c.tokens <= 64 for c in chunks)


def test_heading_line_keeps_the_trail():
    assert heading_line("Time off", ["Time off", "Sick leave"]) == "Time off > Sick leave"
    assert heading_line("Time off", []) == "Time off"


def test_sentences_keep_abbreviations_and_citations_together():
    text = "Use e.g. the portal at 10:00. Then sign in [2]. Done!\n- a list item\n- another"
    assert split_sentences(text) == ["Use e.g. the portal at 10:00.", "Then sign in [2].", "Done!",
                                     "- a list item", "- another"]
    assert split_sentences("It is 25 days. [1] More text.") == ["It is 25 days. [1]", "More text."]
