"""Reading Prometheus text and PromQL in tests: scraped samples, metric families, names in a query."""

from __future__ import annotations

import re
from collections.abc import Iterable

import httpx
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

_SUFFIXES = ("_total", "_created", "_bucket", "_sum", "_count")


def base_name(name: str) -> str:
    """The family a sample or series name belongs to: x_bucket, x_sum, x_count, x_total -> x."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def samples(text: str) -> list[Sample]:
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def families(text: str) -> set[str]:
    """Base names of every family in an exposition, whether or not it has samples yet."""
    return {base_name(f.name) for f in text_string_to_metric_families(text)}


def value(found: Iterable[Sample], name: str, **labels: str) -> float:
    """The sum of the samples called `name` whose labels include `labels` (0 when none)."""
    return sum(s.value for s in found if s.name == name and labels.items() <= s.labels.items())


def bucket(found: Iterable[Sample], name: str, le: float, **labels: str) -> float:
    """A histogram's cumulative count at the bucket `le` (the exporters spell 60 as "60" or "60.0")."""
    return sum(s.value for s in found if s.name == f"{name}_bucket" and float(s.labels.get("le", "nan")) == le
               and labels.items() <= s.labels.items())


def local(name: str, **labels: str) -> float:
    """A sample of this process's default registry (the gateway's metrics, when a test serves it here)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def scrape(url: str, *, token: str | None = None) -> list[Sample]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=10) as http:
        r = await http.get(url, headers=headers)
    r.raise_for_status()
    return samples(r.text)


# ---- PromQL ---------------------------------------------------------------------------------------

KEYWORDS = frozenset({
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool",
    "inf", "nan", "atan2",
})
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_LABEL_LISTS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_RANGES = re.compile(r"\[[^\[\]]*\]")
_OFFSET = re.compile(r"\boffset\s+-?[0-9a-z]+")
_VARIABLE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")
_NAME = re.compile(r"(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?")
_DURATION = re.compile(r"^[0-9]")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: not functions, aggregations, keywords, label names,
    strings, durations or Grafana variables."""
    text = _VARIABLE.sub(" ", expr)
    text = _STRING.sub('""', text)
    text = _MATCHERS.sub(" ", text)
    text = _LABEL_LISTS.sub(" ", text)
    text = _RANGES.sub(" ", text)
    text = _OFFSET.sub(" ", text)
    names = set()
    for m in _NAME.finditer(text):
        name, call = m.group(1), m.group(2)
        if call or name.lower() in KEYWORDS or _DURATION.match(name):
            continue
        names.add(name)
    return names
