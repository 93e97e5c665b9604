"""Custom search attributes: "my requests" and "pending for me" are visibility queries, not scans."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

REQUESTER = SearchAttributeKey.for_keyword("AiosRequester")
KIND = SearchAttributeKey.for_keyword("AiosKind")
STATE = SearchAttributeKey.for_keyword("AiosState")
APPROVERS = SearchAttributeKey.for_keyword_list("AiosApprovers")
DECIDERS = SearchAttributeKey.for_keyword_list("AiosDeciders")

ALL = (REQUESTER, KIND, STATE, APPROVERS, DECIDERS)


def dev_server_flags() -> list[str]:
    """`temporal server start-dev` arguments that register every attribute."""
    names = {"KEYWORD": "Keyword", "KEYWORD_LIST": "KeywordList"}
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={names[key.indexed_value_type.name]}"]
    return flags
