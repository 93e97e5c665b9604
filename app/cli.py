"""The `aios` command line: run the assistant or one of its services, tokens, training, benchmarks."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from assistant.errors import AssistantError, BadRequest
from assistant.logs import configure_logging
from assistant.settings import Settings
from assistant.telemetry import configure_tracing

app = typer.Typer(add_completion=False, no_args_is_help=True, help="AIOS Assistant command line.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks (performance targets are checked here).")
eval_app = typer.Typer(no_args_is_help=True, help="Quality evaluations.")
app.add_typer(bench_app, name="bench")
app.add_typer(eval_app, name="eval")


def _settings(service: str = "cli", *, traced: bool = False) -> Settings:
    """The settings, with this process's logging set up (and its tracing, for a service)."""
    settings = Settings.load()
    configure_logging(settings, service)
    if traced:
        try:
            configure_tracing(settings, service)
        except AssistantError as exc:
            _fail(exc)
    return settings


def _fail(exc: AssistantError) -> None:
    typer.echo(f"error: {exc.message}", err=True)
    raise typer.Exit(2)


@app.command()
def up(
    profile: Annotated[str, typer.Option(help="embedded: one process of each service on SQLite (the default); "
                                         "scale: PostgreSQL, Redis, a Chroma server, llama-server and N "
                                         "replicas of every service behind balancers, on this machine")] = "embedded",
    replicas: Annotated[int, typer.Option(help="with --profile scale: replicas of each service")] = 2,
) -> None:
    """Start the whole assistant (Temporal, worker, actions, Rasa, gateway); Ctrl-C stops it."""
    from app.scale import up_scale
    from app.up import up as run_up

    if profile not in ("embedded", "scale"):
        typer.echo(f"error: unknown profile {profile!r} (embedded or scale)", err=True)
        raise typer.Exit(2)
    settings = _settings()
    try:
        code = asyncio.run(run_up(settings) if profile == "embedded" else up_scale(settings, replicas=replicas))
    except AssistantError as exc:
        _fail(exc)
    raise typer.Exit(code)


@app.command()
def train(force: Annotated[bool, typer.Option(help="retrain even if the data did not change")] = False) -> None:
    """Train the Rasa model if the training data or config changed (cached by their hash)."""
    from app import rasa_server
    from app.nlu_lookups import sync_system_lookup
    from assistant.catalog import SystemCatalog

    settings = _settings()
    try:
        catalog = SystemCatalog.load(settings.core.systems_file)
        if sync_system_lookup(catalog, settings.core.data_dir / "rasa" / "lookup_systems.yml"):
            typer.echo("updated data/rasa/lookup_systems.yml from the system catalog")
        path = rasa_server.ensure_model(settings, force=force, stream=sys.stderr)
    except AssistantError as exc:
        _fail(exc)
    typer.echo(str(path))


@app.command()
def token(
    user_id: Annotated[str, typer.Argument(help="a directory user; or `revoke` to revoke tokens")],
    target: Annotated[str | None, typer.Argument(help="with `revoke`: the token to revoke")] = None,
    ttl: Annotated[int | None, typer.Option(help="lifetime in seconds (default from settings)")] = None,
    user: Annotated[str | None, typer.Option(
        "--user", help="with `revoke`: every token of this user issued until now")] = None,
) -> None:
    """Mint a signed, expiring login token for a directory user; `aios token revoke TOKEN|--user U`
    (--user also ends the person's web sessions from single sign-on)."""
    from assistant.directory import Directory
    from assistant.revocations import Revocations
    from assistant.schema import open_database
    from assistant.tokens import TokenService
    from channels.web.sessions import Sessions

    settings = _settings()
    try:
        settings.core.check_secure()
        directory = Directory.load(settings.core.directory_file)
        engine = open_database(settings)
        revocations = Revocations(engine)
        tokens = TokenService(settings.core.secret_key.get_secret_value(), directory,
                              ttl_seconds=settings.core.token_ttl_seconds, revocations=revocations)
        if user_id != "revoke":
            typer.echo(tokens.mint(user_id, ttl_seconds=ttl))
            return
        if (target is None) == (user is None):
            raise BadRequest("say what to revoke: `aios token revoke TOKEN` or `aios token revoke --user ID`")
        if user is not None:
            directory.get(user)
            revocations.revoke_user(user)
            ended = Sessions.configured(engine, settings.oidc).end_all(user)
            typer.echo(f"revoked every token of {user} issued until now, and ended {ended} web session(s)")
        elif target is not None:
            claims = tokens.inspect(target)
            if not claims.token_id:
                raise BadRequest("this token has no id; revoke it with --user")
            revocations.revoke_token(claims.token_id, claims.user_id, claims.expires_at)
            typer.echo(f"revoked token {claims.token_id} of {claims.user_id}")
    except AssistantError as exc:
        _fail(exc)


@app.command("trace")
def trace_(
    key: Annotated[str, typer.Argument(help="a request id, a conversation id (the person's id) or a trace id")],
    limit: Annotated[int, typer.Option(min=1, max=50, help="how many of the newest traces")] = 3,
) -> None:
    """Print the span trees of recent traces from the local store (services run with AIOS_TRACES_KEEP=N)."""
    from assistant.trace_store import TraceStore, render

    settings = _settings()
    path = settings.telemetry.traces_file or settings.core.var_dir / "traces.db"
    if not path.exists():
        typer.echo(f"error: no local trace store at {path}: run the services with AIOS_TRACES_KEEP=N "
                   "(or look the trace up in your tracing backend)", err=True)
        raise typer.Exit(2)
    store = TraceStore(path, keep=max(settings.telemetry.traces_keep, 1))
    found = store.find(key, limit=limit)
    if not found:
        typer.echo(f"no trace of {key} among the last {settings.telemetry.traces_keep or 'kept'} traces", err=True)
        raise typer.Exit(1)
    for trace_id in found:
        typer.echo("\n".join(render(store.spans(trace_id))) + "\n")


@app.command("metrics-token")
def metrics_token(
    service: Annotated[str, typer.Option(help="gateway, or knowledge (its service token)")] = "gateway",
) -> None:
    """Print the bearer token a Prometheus scraper sends to a service's /metrics."""
    settings = _settings()
    if service == "knowledge":
        from assistant.settings.knowledge import service_token

        typer.echo(service_token(settings.core.secret_key.get_secret_value()))
        return
    if service != "gateway":
        _fail(BadRequest("--service is gateway or knowledge"))
    typer.echo(settings.metrics_token())


@app.command()
def certs(
    directory: Annotated[Path, typer.Argument(help="where to write ca.pem, server.pem, client.pem and their keys")],
    server_name: Annotated[list[str], typer.Option(help="a name or IP the Temporal frontend is reached by "
                                                   "(repeatable)")],
) -> None:
    """Make a local CA with a server and a client certificate, for mTLS to Temporal on a network."""
    from app.local_ca import make_local_ca

    made = make_local_ca(directory, server_names=server_name)
    typer.echo(f"CA {made.ca.cert}; server {made.server.cert} for {', '.join(server_name)}; client {made.client.cert}\n"
               f"Services: AIOS_TEMPORAL_TLS_CA_FILE={made.ca.cert} AIOS_TEMPORAL_TLS_CERT_FILE={made.client.cert} "
               f"AIOS_TEMPORAL_TLS_KEY_FILE={made.client.key}")


@app.command()
def doctor(
    skip: Annotated[list[str] | None, typer.Option(
        help="leave out a slow check: generation, embedding, rasa (repeatable)")] = None,
) -> None:
    """Check this machine and install: CPU and llama.cpp build, models, Rasa, Temporal, ports, disk."""
    from app.doctor import diagnose, healthy, render

    settings = _settings()
    findings = asyncio.run(diagnose(settings, skip=frozenset(skip or ())))
    typer.echo(render(findings))
    raise typer.Exit(0 if healthy(findings) else 1)


@app.command()
def worker() -> None:
    """Run the Temporal workflow worker."""
    from workflows.worker import run_worker

    settings = _settings("worker", traced=True)
    asyncio.run(run_worker(settings))


@app.command()
def actions() -> None:
    """Run the Rasa action server."""
    from actions.server import run_action_server

    run_action_server(_settings("actions", traced=True))


@app.command()
def rasa() -> None:
    """Run the Rasa server alone (the model for the current data, trained if missing), as a container does."""
    import os

    from app import rasa_server

    settings = _settings("rasa")
    try:
        model = rasa_server.ensure_model(settings)
        argv = rasa_server.run_command(settings, model)
    except AssistantError as exc:
        _fail(exc)
    settings.core.var_dir.mkdir(parents=True, exist_ok=True)
    os.chdir(settings.core.var_dir)
    os.execve(argv[0], argv, rasa_server.rasa_env(settings))  # Rasa becomes this process (signals, exit code)


@app.command("llama-server")
def llama_server() -> None:
    """Run llama.cpp's own server with the configured model (AIOS_KNOWLEDGE_LLM_BACKEND=llama-server)."""
    import os

    from app import llm_server

    settings = _settings()
    try:
        argv = llm_server.command(settings)
    except AssistantError as exc:
        _fail(exc)
    os.execv(argv[0], argv)


@app.command()
def gateway() -> None:
    """Run the gateway (web widget, API, channels)."""
    import uvicorn

    from channels.app import create_app

    settings = _settings("gateway", traced=True)
    try:
        api = create_app(settings)
    except AssistantError as exc:
        _fail(exc)
    uvicorn.run(api, host=settings.gateway.host, port=settings.gateway.port, log_level="warning",
                access_log=False)


@bench_app.command("chat")
def bench_chat(
    users: Annotated[int, typer.Option(help="concurrent simulated users")] = 10,
    turns: Annotated[int, typer.Option(help="NLU-only turns per user")] = 30,
    forms: Annotated[int, typer.Option(help="full time-off forms per user")] = 1,
    think: Annotated[float, typer.Option(
        help="mean seconds a user waits between turns (uniform 0.5x-1.5x); 0 measures saturation")] = 2.0,
    scale: Annotated[bool, typer.Option(
        "--scale", help="instead: 1 vs 2 Rasa processes at saturation (PostgreSQL trackers, Redis locks), and "
                        "the gateway on SQLite vs PostgreSQL at paced load (think time 2 s when --think 0)")] = False,
) -> None:
    """Latency and throughput through the gateway, next to Rasa's REST webhook in the same run."""
    from app.bench.chat import run_bench
    from app.bench.scale import run_scale_bench

    settings = _settings()
    try:
        if scale:
            asyncio.run(run_scale_bench(users=users, turns=turns, think=think))
            return
        asyncio.run(run_bench(settings, users=users, turns=turns, forms=forms, think=think))
    except AssistantError as exc:
        _fail(exc)


@bench_app.command("tracing")
def bench_tracing(
    rounds: Annotated[int, typer.Option(min=1, help="stacks started per mode, alternating off and on")] = 2,
    turns: Annotated[int, typer.Option(min=1, help="chat turns per stack")] = 40,
    questions: Annotated[int, typer.Option(min=1, help="knowledge questions per stack")] = 8,
) -> None:
    """Tracing off vs on (OTLP): chat turn latency and knowledge time to first token, side by side."""
    from app.bench.tracing import run_bench

    _settings()
    try:
        typer.echo(asyncio.run(run_bench(rounds=rounds, turns=turns, questions=questions)))
    except AssistantError as exc:
        _fail(exc)


@bench_app.command("widget")
def bench_widget(
    rounds: Annotated[int, typer.Option(help="times each of the 8 questions is asked")] = 2,
) -> None:
    """Enter -> first streamed words of an answer in the web widget (headless Chromium), next to the
    knowledge service's own time to first token."""
    from app.bench.widget import run_bench

    try:
        report = asyncio.run(run_bench(rounds=rounds))
    except AssistantError as exc:
        _fail(exc)
    typer.echo(report.summary())


@eval_app.command("nlu")
def eval_nlu(
    cross_validation: Annotated[bool, typer.Option("--cross-validation", help="also run k-fold CV")] = False,
    folds: int = 3,
    heldout: Annotated[Path | None, typer.Option(
        "--set", help="held-out set (default data/eval/nlu_heldout.yml; independent ones in "
        "data/eval/independent/)")] = None,
) -> None:
    """Intent accuracy, macro-F1 and per-intent recall on a held-out set."""
    from app.nlu_eval import run_eval

    settings = _settings()
    try:
        report = run_eval(settings, cross_validation=cross_validation, folds=folds, heldout_file=heldout)
    except AssistantError as exc:
        _fail(exc)
    typer.echo(report.summary())


@eval_app.command("dialogue")
def eval_dialogue(
    cases: Annotated[Path, typer.Option(help="the messages to replay")] = Path("data/eval/independent/dialogue.yml"),
    limit: Annotated[int | None, typer.Option(help="only the first N cases")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="also write every outcome here")] = None,
) -> None:
    """Replay messages through the real gateway of a stack started for it; routing and answer figures."""
    import tempfile

    from app.dialogue_eval import load_cases, replay
    from app.local_stack import make_settings, running_stack

    chosen = load_cases(cases)[:limit]

    async def run():
        with tempfile.TemporaryDirectory(prefix="aios-eval-") as scratch:
            async with running_stack(make_settings(Path(scratch))) as stack:
                return await replay(stack, chosen)

    try:
        report = asyncio.run(run())
    except AssistantError as exc:
        _fail(exc)
    typer.echo(report.summary())
    if json_out is not None:
        report.write_json(json_out)


def _register_plugins() -> None:
    """Optional parts add their own commands (knowledge, audit, ...)."""
    import importlib

    for module in ("app.db_cli", "app.knowledge_cli", "app.workflows_cli", "app.digest_cli", "channels.cli"):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        mod.register(app, bench_app=bench_app, eval_app=eval_app)


_register_plugins()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
