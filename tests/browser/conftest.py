"""A second gateway on the shared stack's Rasa, knowledge service and Temporal, signing people in
at a real OpenID provider (node-oidc-provider), for the browser tests of single sign-on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from app.local_stack import serve_gateway
from app.serving import free_port
from assistant.settings import PROJECT_DIR
from assistant.settings.oidc import OidcSettings
from channels.app import create_app
from channels.services import GatewayServices
from tests.oidc import Provider, oidc_provider

SECRET = "browser-client-secret-0123456789abcdef"
SCREENSHOTS = PROJECT_DIR / "results" / "screenshots"


@pytest.fixture
def shots(request) -> Path:
    """Where a browser test saves its screenshots: results/screenshots/<test>/ (kept after the run)."""
    name = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
    path = SCREENSHOTS / name
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class SsoGateway:
    url: str
    provider: Provider
    app: object
    embed_port: int  # pages on http://localhost:<embed_port> may embed its widget


@pytest.fixture(scope="module")
async def sso(stack, tmp_path_factory):
    settings = stack.settings.model_copy(deep=True)
    settings.gateway.port = free_port()
    embed_port = free_port()
    settings.gateway.embed_origins = f"http://localhost:{embed_port}"
    base = settings.gateway.url
    client = {"client_id": "aios-web", "client_secret": SECRET, "redirect_uris": [base + "/auth/callback"],
              "post_logout_redirect_uris": [base + "/"]}
    with oidc_provider(tmp_path_factory.mktemp("oidc"), [client]) as provider:
        settings.oidc = OidcSettings(issuer=provider.issuer, client_id="aios-web", client_secret=SECRET)
        services = GatewayServices.build(settings, temporal=stack.temporal)
        try:
            app = create_app(settings, services=services)
            async with serve_gateway(app, settings):
                yield SsoGateway(url=base, provider=provider, app=app, embed_port=embed_port)
        finally:
            await services.close()
