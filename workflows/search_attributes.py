"""Custom search attributes: "my requests" and "pending for me" are visibility queries, not scans."""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey

from assistant.errors import ConfigurationError

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


async def register(client: Client, namespace: str) -> list[str]:
    """Add the attributes a Temporal cluster lacks (what `aios temporal setup` does); returns the added.

    Idempotent: run it on every deployment. An attribute of the same name but another type is a
    conflict no code can fix (Temporal cannot change a type): that raises.
    """
    have = (await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace))).custom_attributes
    wrong = [k.name for k in ALL if k.name in have and have[k.name] != int(k.indexed_value_type)]
    if wrong:
        raise ConfigurationError(f"Temporal namespace {namespace} has search attribute(s) {', '.join(wrong)} "
                                 "with another type; remove them (`temporal operator search-attribute remove`)")
    missing = {k.name: IndexedValueType.ValueType(int(k.indexed_value_type)) for k in ALL if k.name not in have}
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing))
    return sorted(missing)
