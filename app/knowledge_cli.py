"""`aios ingest`, `aios knowledge ...`, `aios eval knowledge`, `aios bench knowledge`."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from assistant.errors import AssistantError

knowledge_app = typer.Typer(no_args_is_help=True, help="The knowledge service and its documents.")


def _settings(service: str = "cli", *, traced: bool = False):
    from app.cli import _settings as load

    return load(service, traced=traced)


def _fail(exc: AssistantError) -> None:
    typer.echo(f"error: {exc.message}", err=True)
    raise typer.Exit(2)


def _default_actor() -> str:
    return f"cli:{getpass.getuser()}"


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="files or folders (folders: every supported file inside)")],
    groups: Annotated[str | None, typer.Option(help="comma-separated groups that may read them "
                                                     "(default: manifest.yml, else all-staff)")] = None,
    actor: Annotated[str | None, typer.Option("--as", help="who is adding them (for the audit trail)")] = None,
) -> None:
    """Add or update documents (PDF, DOCX, HTML, Markdown, text). Unchanged files are skipped."""
    from knowledge import admin
    from knowledge.folder import collect

    settings = _settings()
    try:
        group_tuple = tuple(g.strip() for g in groups.split(",") if g.strip()) if groups else None
        docs = collect(paths, groups=group_tuple)
        if not docs:
            typer.echo("no supported documents found", err=True)
            raise typer.Exit(1)
        lines = admin.ingest(settings, docs, actor=actor or _default_actor())
    except AssistantError as exc:
        _fail(exc)
    failed = 0
    for line in lines:
        typer.echo(f"{'ok ' if line.ok else 'REFUSED'} {line.path}: {line.message}")
        failed += not line.ok
    if failed:
        raise typer.Exit(1)


@knowledge_app.command("serve")
def serve(seed: Annotated[Path | None, typer.Option(help="load this folder when the store is empty")] = None) -> None:
    """Run the knowledge service (store, embeddings, answer model) on AIOS_KNOWLEDGE_PORT."""
    import uvicorn

    from knowledge.service import create_app

    settings = _settings("knowledge", traced=True)
    try:
        api = create_app(settings, seed_dir=seed)
    except AssistantError as exc:
        _fail(exc)
    uvicorn.run(api, host=settings.knowledge.host, port=settings.knowledge.port, log_level="warning",
                access_log=False)


@knowledge_app.command("reindex")
def reindex(actor: Annotated[str | None, typer.Option("--as")] = None) -> None:
    """Rebuild the whole index from the stored originals (same document and chunk ids)."""
    from knowledge import admin

    settings = _settings()
    try:
        result = admin.reindex(settings, actor=actor or _default_actor())
    except AssistantError as exc:
        _fail(exc)
    typer.echo(f"reindexed {result['documents']} documents into {result['chunks']} chunks")


@knowledge_app.command("list")
def list_documents() -> None:
    """The documents in the store (through the service when it runs)."""
    from knowledge.registry import Registry

    settings = _settings()
    registry = Registry.open(settings.core.database_url, settings.knowledge.data_dir(settings.core.var_dir))
    try:
        for doc in registry.all():
            typer.echo(f"{doc.id:<32} v{doc.version:<3} {doc.chunks:>5} chunks  [{doc.acl}]  {doc.title}")
    finally:
        registry.close()


model_app = typer.Typer(no_args_is_help=True, help="The answer model: list the GGUF files found, choose one.")


@model_app.command("list")
def model_list() -> None:
    """The packaged model, every GGUF in AIOS_KNOWLEDGE_MODELS_DIR, the configured one; * is in use."""
    from knowledge.models_catalog import available

    settings = _settings()
    for m in available(settings.knowledge, settings.knowledge.models_dir or settings.core.var_dir / "models"):
        typer.echo(f"{'*' if m.in_use else ' '} {m.path}  {m.size_bytes / 1e6:.0f} MB  ({m.where})")


@model_app.command("use")
def model_use(path: Annotated[Path, typer.Argument(help="a GGUF file")]) -> None:
    """Answer with this model from the next start (recorded in ./.env as AIOS_KNOWLEDGE_MODEL_PATH)."""
    from knowledge.models_catalog import ENV_KEY, overridden_by_environment, use

    try:
        chosen = use(path, Path(".env"))
    except AssistantError as exc:
        _fail(exc)
    typer.echo(f"answer model: {chosen} (in .env); restart `make run` to load it. Compare models first with "
               f"`aios eval knowledge --model {chosen}`.")
    if (env := overridden_by_environment()) and Path(env).resolve() != chosen:
        typer.echo(f"note: {ENV_KEY}={env} in the environment overrides .env", err=True)


def eval_knowledge(
    questions: Annotated[Path, typer.Option(help="evaluation set (YAML)")] = Path("data/eval/knowledge.yml"),
    documents: Annotated[Path | None, typer.Option(help="documents folder (default: the set's `documents`)")] = None,
    answers: Annotated[bool, typer.Option("--answers/--no-answers", help="also generate and check answers")] = True,
    model: Annotated[Path | None, typer.Option(help="answer with this GGUF file instead of the configured one")] = None,
) -> None:
    """Retrieval recall@1/@5 and MRR; citations valid, fact containment, right document cited, don't-know rate."""
    from knowledge.evaluation import load_eval_set, run_eval

    settings = _settings()
    if model is not None:
        settings.knowledge = settings.knowledge.model_copy(update={"model_path": model.expanduser().resolve()})
    try:
        eval_set = load_eval_set(questions, documents_dir=documents)
        report = run_eval(settings, eval_set, answers=answers)
    except AssistantError as exc:
        _fail(exc)
    typer.echo(report.summary())


def bench_knowledge(
    scales: Annotated[str, typer.Option(help="chunk counts for the query-latency runs")] = "1000,10000,100000",
    queries: Annotated[int, typer.Option(help="queries per scale")] = 200,
    answers: Annotated[int, typer.Option(help="answers for TTFT and tokens/s (service and direct each)")] = 20,
    llama_bench: Annotated[Path | None, typer.Option(help="a built llama-bench binary to compare with")] = None,
    llama_bench_sdist: Annotated[Path | None, typer.Option(
        help="build llama-bench from this llama-cpp-python sdist (cached) and compare with it")] = None,
    concurrent: Annotated[int, typer.Option(
        help="questions answered at once by llama-server, against one in-process stream (0: skip)")] = 4,
) -> None:
    """Ingestion chunks/s, query p50/p95 by scale, TTFT and tokens/s through the service vs direct."""
    import asyncio

    from app.bench.knowledge import run_bench

    settings = _settings()
    scale_list = [int(s) for s in scales.split(",") if s.strip()]
    try:
        if llama_bench_sdist is not None and llama_bench is None:
            from app.bench.knowledge.native import build_llama_bench

            typer.echo("building llama-bench from the sdist (cached; ~10 minutes the first time)...", err=True)
            llama_bench = build_llama_bench(llama_bench_sdist, settings.core.cache_dir)
        asyncio.run(run_bench(settings, scales=scale_list, queries=queries, answers=answers,
                              llama_bench=llama_bench, concurrent=concurrent))
    except AssistantError as exc:
        _fail(exc)


def register(app: typer.Typer, *, bench_app: typer.Typer, eval_app: typer.Typer) -> None:
    """Called by app.cli: adds this package's commands."""
    app.command("ingest")(ingest)
    app.add_typer(knowledge_app, name="knowledge")
    app.add_typer(model_app, name="model")
    eval_app.command("knowledge")(eval_knowledge)
    bench_app.command("knowledge")(bench_knowledge)
