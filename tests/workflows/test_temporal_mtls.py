"""mTLS to Temporal with a local CA (`aios certs`): the scale-out topology puts the frontend on a network.

The dev server speaks plain gRPC, so the frontend here is a TLS terminator in front of it that
requires a client certificate from the CA (as an Envoy or nginx in front of a cluster would): a real
worker and client talk through it, and a client without the right certificate is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509

from app.local_ca import LocalCA, make_local_ca
from assistant.errors import ServiceUnavailable
from assistant.settings import TemporalSettings
from tests.workflows.conftest import it_ticket, rig_settings, running_rig
from workflows.client import connect
from workflows.models import RequestState


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass  # the other side went away: the copy in the other direction ends too
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def mtls_frontend(ca: LocalCA, upstream: str) -> AsyncIterator[str]:
    """A TLS terminator requiring a client certificate from `ca`, forwarding to `upstream` (host:port)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(ca.ca.cert))
    context.load_cert_chain(str(ca.server.cert), str(ca.server.key))
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])
    host, port = upstream.rsplit(":", 1)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context)
    try:
        yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


def tls_settings(address: str, ca: LocalCA, *, client: LocalCA | None = None, with_cert: bool = True,
                 **kw) -> TemporalSettings:
    client = client or ca
    return TemporalSettings(address=address, tls_ca_file=ca.ca.cert, tls_server_name="localhost",
                            tls_cert_file=client.client.cert if with_cert else None,
                            tls_key_file=client.client.key if with_cert else None, **kw)


@pytest.fixture
def local_ca(tmp_path: Path) -> LocalCA:
    return make_local_ca(tmp_path / "tls", server_names=["localhost", "127.0.0.1"])


async def test_a_worker_and_a_client_run_a_request_over_mtls(temporal_env, settings, tmp_path, local_ca):
    assert oct(local_ca.client.key.stat().st_mode & 0o777) == "0o600"
    async with mtls_frontend(local_ca, settings.temporal.address) as address:
        client = await connect(tls_settings(address, local_ca))
        async with running_rig(client, tmp_path, settings=rig_settings(tmp_path)) as rig:
            request_id = await rig.submit(it_ticket())
            assert (await rig.result(request_id)).state is RequestState.COMPLETED


async def test_no_client_certificate_or_another_ca_is_refused(temporal_env, settings, tmp_path, local_ca):
    stranger = make_local_ca(tmp_path / "other", server_names=["localhost"])
    async with mtls_frontend(local_ca, settings.temporal.address) as address:
        for refused in (tls_settings(address, local_ca, with_cert=False),
                        tls_settings(address, local_ca, client=stranger)):
            with pytest.raises(ServiceUnavailable):
                await asyncio.wait_for(connect(refused), 30)


def test_mtls_settings_must_be_complete(local_ca):
    with pytest.raises(ValueError, match="go together"):
        TemporalSettings(tls_ca_file=local_ca.ca.cert, tls_cert_file=local_ca.client.cert)
    with pytest.raises(ValueError, match="CA_FILE"):
        TemporalSettings(tls_cert_file=local_ca.client.cert, tls_key_file=local_ca.client.key)


def test_aios_certs_writes_what_the_readme_says(tmp_path):
    from typer.testing import CliRunner

    from app.cli import app

    out = CliRunner().invoke(app, ["certs", str(tmp_path / "tls"), "--server-name", "temporal.internal"])
    assert out.exit_code == 0, out.output
    assert {p.name for p in (tmp_path / "tls").iterdir()} == {
        "ca.pem", "ca.key", "server.pem", "server.key", "client.pem", "client.key"}
    assert "AIOS_TEMPORAL_TLS_CERT_FILE=" in out.output
    server = x509.load_pem_x509_certificate((tmp_path / "tls" / "server.pem").read_bytes())
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["temporal.internal"]
