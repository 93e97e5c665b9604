"""`aios audit verify|export`, `aios temporal setup` and `aios bench approvals` (registered by app.cli)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

audit_app = typer.Typer(no_args_is_help=True, help="The keyed, hash-chained audit trail and its signed checkpoints.")


def _audit(database_url: str | None):
    from assistant.audit import AuditLog, audit_files
    from assistant.schema import open_database
    from assistant.settings import Settings

    settings = Settings.load()
    url = database_url or settings.core.database_url
    return AuditLog(open_database(settings, url), files=audit_files(settings, url))


@audit_app.command("verify")
def verify(
    database_url: Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL (default from settings)")] = None,
    metrics_file: Annotated[Path | None, typer.Option(
        "--metrics-file", help="also write the result as Prometheus gauges to this file (node_exporter's "
        "textfile collector: a *.prom file in its directory)")] = None,
    pushgateway: Annotated[str | None, typer.Option(
        "--pushgateway", help="also push the result to this Prometheus Pushgateway (host:port or URL)")] = None,
) -> None:
    """Check every record's keyed hash and link, and the signed checkpoints; exit 1 on any mismatch."""
    report = _audit(database_url).verify()
    if metrics_file is not None or pushgateway:
        from assistant.audit_metrics import publish

        try:
            publish(report, textfile=metrics_file, pushgateway=pushgateway)
        except OSError as exc:  # the verdict below still stands (and sets the exit status)
            typer.echo(f"could not publish the audit metrics: {exc}", err=True)
    if report.ok:
        typer.echo(f"audit OK: {report.records} records, head {report.head_hash}")
        for line in report.checked():
            typer.echo(f"  {line}")
        return
    typer.echo(f"audit FAILED: {len(report.problems)} problem(s) in {report.records} records", err=True)
    for problem in report.problems[:50]:
        typer.echo(f"  {problem}", err=True)
    raise typer.Exit(1)


@audit_app.command("export")
def export(
    out: Annotated[Path | None, typer.Option("--out", "-o", help="file to write (default stdout)")] = None,
    request_id: Annotated[str | None, typer.Option("--request", help="only this request's records")] = None,
    database_url: Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL (default from settings)")] = None,
) -> None:
    """Write the audit records as JSON lines, oldest first."""
    log = _audit(database_url)
    if out is None:
        log.export(sys.stdout, request_id=request_id)
        return
    with out.open("w", encoding="utf-8") as fh:
        n = log.export(fh, request_id=request_id)
    typer.echo(f"wrote {n} records to {out}", err=True)


def bench_approvals(
    requests: Annotated[int, typer.Option("--requests", "-n", help="decisions to time")] = 40,
    warmup: Annotated[int, typer.Option(help="untimed decisions first")] = 3,
    out: Annotated[Path | None, typer.Option("--json", help="also write the figures as JSON")] = None,
) -> None:
    """Click (POST /api/approvals/{id}/decision) -> workflow resumed -> requester notified, on a local dev server."""
    from app.bench.workflows import run_bench
    from assistant.settings import Settings

    report = asyncio.run(run_bench(Settings.load(), requests=requests, warmup=warmup))
    typer.echo(report.summary())
    if out is not None:
        out.write_text(json.dumps(report.as_dict(), indent=2) + "\n")


temporal_app = typer.Typer(no_args_is_help=True, help="A Temporal cluster of your own (AIOS_TEMPORAL_EMBEDDED=false).")


@temporal_app.command("setup")
def temporal_setup() -> None:
    """Register the search attributes the assistant queries (idempotent; run once per deployment)."""
    from assistant.errors import AssistantError
    from assistant.settings import Settings
    from workflows import search_attributes
    from workflows.client import connect

    async def run() -> list[str]:
        settings = Settings.load()
        client = await connect(settings.temporal)
        return await search_attributes.register(client, settings.temporal.namespace)

    try:
        added = asyncio.run(run())
    except AssistantError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"search attributes added: {', '.join(added)}" if added else "search attributes: all present")
    # A short-lived Temporal client can crash the interpreter's finalization (the SDK's Rust threads
    # outlive the event loop: temporalio/sdk-python#300; seen here as SIGSEGV after the work was done).
    # Everything is done and printed: leave without finalizing.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def register(app: typer.Typer, *, bench_app: typer.Typer, eval_app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
    app.add_typer(temporal_app, name="temporal")
    bench_app.command("approvals")(bench_approvals)
