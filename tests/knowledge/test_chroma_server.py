"""At scale the store is a Chroma server (HttpClient): the same ingest, search, delete and reload."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import chromadb
import httpx
import pytest

from app.local_stack import free_port
from tests.knowledge import docs
from tests.knowledge.conftest import open_runtime

CHROMA = Path(chromadb.__file__).resolve().parents[4] / "bin" / "chroma"


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    if not CHROMA.exists():
        pytest.skip(f"the chroma server binary is not installed at {CHROMA}")
    port = free_port()
    log = open(tmp_path_factory.mktemp("chroma-log") / "chroma.log", "w")
    env = dict(os.environ, ANONYMIZED_TELEMETRY="False")
    process = subprocess.Popen([str(CHROMA), "run", "--path", str(tmp_path_factory.mktemp("chroma-data")),
                                "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                               env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "chroma server did not start"
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def test_store_on_a_chroma_server(chroma_server, knowledge_base_settings, tmp_path, embedder):
    settings = knowledge_base_settings.model_copy(deep=True)
    settings.knowledge.chroma_url = chroma_server
    first = open_runtime(settings, tmp_path, embedder, None)
    try:
        first.store.ingest("parking.md", docs.markdown(docs.PARKING), actor="erin", groups=["all-staff"])
        first.store.ingest("oncall.md", docs.markdown([("Pay", "On-call pays 250 EUR per week.")], title="On-call"),
                           actor="erin", groups=["engineering"])
        assert first.retriever.search("electric car charging cost", {"all-staff"}).hits[0].chunk.document_id == \
            "parking"
        assert not first.retriever.search("on-call pay", {"finance"}).hits
        ids = sorted(c.id for c in first.store.snapshot.chunks)
    finally:
        first.close()
    second = open_runtime(settings, tmp_path, embedder, None)
    try:
        assert sorted(c.id for c in second.store.snapshot.chunks) == ids
        second.store.delete("parking", actor="erin")
        assert not second.retriever.search("electric car charging cost", {"all-staff"}).hits
    finally:
        second.close()
