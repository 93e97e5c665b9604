"""The Grafana dashboard and the Prometheus rules in deploy/ read only metrics the code exports.

Every PromQL expression (panel targets, alerting rules) is taken apart into the metric names it reads;
each must be a family that a service registers: the gateway (channels.metrics), the knowledge service
(knowledge.metrics), the action server (actions.metrics), `aios audit verify` (assistant.audit_metrics)
or the worker (workflows.metrics, whose list tests/workflows/test_metrics.py holds against a real scrape).
"""

from __future__ import annotations

import importlib
import json

import pytest
import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase

from assistant.audit import VerifyReport
from assistant.audit_metrics import verify_registry
from assistant.settings import PROJECT_DIR, Settings
from assistant.settings.metrics import host_port
from tests.prometheus import base_name, metric_names
from workflows import metrics as worker_metrics

DEPLOY = PROJECT_DIR / "deploy"
DASHBOARD = DEPLOY / "grafana" / "aios-dashboard.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
SCRAPE = DEPLOY / "prometheus" / "prometheus.yml"
# Series Prometheus makes itself for every target.
SYNTHETIC = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"})


def _module_families(module: str) -> set[str]:
    mod = importlib.import_module(module)
    return {base_name(f.name) for value in vars(mod).values() if isinstance(value, MetricWrapperBase)
            for f in value.describe()}


def _registry_families(registry: CollectorRegistry) -> set[str]:
    return {base_name(f.name) for f in registry.collect()}


def exported() -> set[str]:
    """Every metric family the services export, by base name (no _total, _bucket, _sum, _count)."""
    from actions.metrics import REGISTRY as ACTIONS
    from channels.metrics import DeliveryMetrics

    delivery = CollectorRegistry()
    DeliveryMetrics.in_registry(delivery)
    names = _module_families("channels.metrics") | _module_families("knowledge.metrics")
    names |= _registry_families(delivery)
    names |= _registry_families(ACTIONS) | _registry_families(verify_registry(VerifyReport()))
    names |= {base_name(n) for n in (*worker_metrics.EXPORTED, *worker_metrics.SDK_EXPORTED)}
    return names | SYNTHETIC


def missing(expr: str, known: set[str]) -> set[str]:
    return {name for name in metric_names(expr) if base_name(name) not in known}


def panels(dashboard: dict) -> list[dict]:
    out = []
    for panel in dashboard["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))  # a collapsed row holds its panels
    return out


def dashboard_exprs() -> list[tuple[str, str]]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [(p["title"], t["expr"]) for p in panels(dashboard) for t in p.get("targets", [])]


def alert_rules() -> list[dict]:
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def test_the_extractor_finds_metric_names_and_nothing_else():
    expr = ('histogram_quantile(0.95, sum by (le, channel) (rate(aios_chat_turn_seconds_bucket'
            '{channel=~"slack|teams", outcome!="ok"}[$__rate_interval] offset 1h)))'
            ' / on(instance) group_left(kind) max without (job) (aios_llm_queue_depth) > bool 0.5'
            ' and time() - max(aios_audit_verify_timestamp_seconds) > 26 * 3600 or vector(1e3)')
    assert metric_names(expr) == {"aios_chat_turn_seconds_bucket", "aios_llm_queue_depth",
                                  "aios_audit_verify_timestamp_seconds"}
    assert metric_names('label_replace(up, "dst", "$1", "src", "(.*)")') == {"up"}


def test_a_misspelt_or_unexported_metric_is_caught():
    known = exported()
    assert missing("sum(rate(aios_chat_turns_total[5m]))", known) == set()
    assert missing("sum(rate(aios_chat_turn_total[5m]))", known) == {"aios_chat_turn_total"}
    assert missing('histogram_quantile(0.9, rate(aios_request_decision_seconds_bucket{stage="x"}[1d]))',
                   known) == set()
    assert missing("aios_requests_approved_total", known) == {"aios_requests_approved_total"}


def test_exported_names_cover_every_service():
    known = exported()
    for name in ("aios_chat_turns", "aios_nlu_fallbacks", "aios_notify_delivery_lag_seconds",  # gateway
                 "aios_llm_time_to_first_token_seconds", "aios_llm_queue_capacity",  # knowledge
                 "aios_action_seconds", "aios_audit_chain_ok",  # action server, audit verify
                 "aios_request_decision_seconds", "temporal_workflow_task_schedule_to_start_latency"):  # worker
        assert name in known, name


def test_every_dashboard_query_reads_metrics_that_exist():
    known = exported()
    exprs = dashboard_exprs()
    assert len(exprs) >= 30
    problems = {title: sorted(missing(expr, known)) for title, expr in exprs if missing(expr, known)}
    assert not problems, problems
    for title, expr in exprs:
        assert metric_names(expr), f"{title}: {expr} reads no metric"
        assert expr.count("(") == expr.count(")"), f"{title}: unbalanced parentheses in {expr}"


def test_every_panel_has_a_unique_id_and_its_place():
    dashboard = json.loads(DASHBOARD.read_text())
    ids = [p["id"] for p in panels(dashboard)]
    assert len(ids) == len(set(ids))
    for panel in panels(dashboard):
        assert {"h", "w", "x", "y"} <= panel["gridPos"].keys(), panel["title"]
        if panel["type"] != "row":
            assert panel["targets"] and panel["datasource"]["uid"] == "${datasource}", panel["title"]


SLO_ALERTS = {"AiosChatLatencyHigh", "AiosAnswerTimeToFirstTokenHigh", "AiosApprovalNotificationLag",
              "AiosOutboxBacklog", "AiosChatErrorRate", "AiosLLMQueueSaturated", "AiosAuditVerifyFailed"}


def test_every_alert_rule_reads_metrics_that_exist():
    known = exported()
    rules = alert_rules()
    assert SLO_ALERTS <= {r["alert"] for r in rules}
    for rule in rules:
        assert not missing(rule["expr"], known), (rule["alert"], missing(rule["expr"], known))
        assert metric_names(rule["expr"]), rule["alert"]
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]


@pytest.mark.parametrize("job, port", [
    ("aios-gateway", lambda s: s.gateway.port), ("aios-knowledge", lambda s: s.knowledge.port),
    ("aios-worker", lambda s: host_port(s.metrics.worker_address)[1]),
    ("aios-actions", lambda s: host_port(s.metrics.actions_address)[1]),
])
def test_the_scrape_example_uses_the_services_ports_and_tokens(job, port, tmp_path):
    config = yaml.safe_load(SCRAPE.read_text())
    assert config["rule_files"] == ["alerts.yml"] and (SCRAPE.parent / "alerts.yml").exists()
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    settings = Settings(core={"var_dir": tmp_path})
    targets = jobs[job]["static_configs"][0]["targets"]
    assert all(t.endswith(f":{port(settings)}") for t in targets), (job, targets)
    if job in ("aios-gateway", "aios-knowledge"):  # the two that need a token
        assert jobs[job]["authorization"]["type"] == "Bearer"


def test_metrics_token_prints_each_scraped_services_token(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from app.cli import app
    from assistant.settings.knowledge import service_token

    monkeypatch.setenv("AIOS_VAR_DIR", str(tmp_path))
    settings = Settings()
    runner = CliRunner()
    gateway = runner.invoke(app, ["metrics-token"])
    knowledge = runner.invoke(app, ["metrics-token", "--service", "knowledge"])
    assert gateway.output.strip() == settings.metrics_token()
    assert knowledge.output.strip() == service_token(settings.core.secret_key.get_secret_value())
    assert knowledge.output.strip() != gateway.output.strip()
    assert runner.invoke(app, ["metrics-token", "--service", "rasa"]).exit_code == 2
