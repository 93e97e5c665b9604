"""`aios digest sync|status`: the weekly digest's per-person workflows (registered by app.cli)."""

from __future__ import annotations

import asyncio
import os
import sys

import typer

digest_app = typer.Typer(no_args_is_help=True, help="The weekly digest each person gets at their local time.")


def _run(sync: bool) -> None:
    from assistant.directory import Directory
    from assistant.errors import AssistantError
    from assistant.settings import Settings
    from workflows.client import connect
    from workflows.digest.sync import next_sends, sync_digests

    async def run() -> list[str]:
        settings = Settings.load()
        directory = Directory.load(settings.core.directory_file)
        client = await connect(settings.temporal)
        lines = []
        if sync:
            report = await sync_digests(client, directory, settings.digest, task_queue=settings.temporal.task_queue)
            lines.append(f"digest workflows kept: {len(report.kept)}; told to stop: {len(report.stopping)}")
        for user, plan in (await next_sends(client, directory)).items():
            when = plan.local if plan is not None and plan.active else "no digest planned"
            lines.append(f"  {user}: {when}")
        return lines

    try:
        lines = asyncio.run(run())
    except AssistantError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    typer.echo("\n".join(lines))
    # A short-lived Temporal client can crash the interpreter's finalization (temporalio/sdk-python#300):
    # everything is printed, leave without finalizing (as `aios temporal setup` does).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@digest_app.command("sync")
def sync() -> None:
    """Start a digest workflow for every directory person who has none, re-plan the others (idempotent;
    the worker does it at start), then list each person's next digest on their own clock."""
    _run(sync=True)


@digest_app.command("status")
def status() -> None:
    """Each person's next digest on their own clock (a running worker answers)."""
    _run(sync=False)


def register(app: typer.Typer, *, bench_app: typer.Typer, eval_app: typer.Typer) -> None:
    app.add_typer(digest_app, name="digest")
