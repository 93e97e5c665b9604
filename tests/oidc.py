"""A real OpenID Connect provider for the tests: node-oidc-provider (tools/node/oidc_provider.mjs).

`make env` installs it (tools/node/package-lock.json, with `npm ci`) and Debian's Node.js. The
provider's own development login page is used as a person would use it: a form to fill in, by a
browser (tests/browser) or here by posting the form as the browser would.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import httpx

from app.serving import free_port
from assistant.settings import PROJECT_DIR

NODE_DIR = PROJECT_DIR / "tools" / "node"
SCRIPT = NODE_DIR / "oidc_provider.mjs"

# Who the provider knows: the directory's people, and one person the directory does not have.
ACCOUNTS = {
    "alice": {"email": "alice@example.com", "name": "Alice Martin"},
    "bob": {"email": "bob@example.com", "name": "Bob Nguyen"},
    "erin": {"email": "erin@example.com", "name": "Erin"},
    "mallory": {"email": "mallory@example.com", "name": "Mallory Stranger"},
}


@dataclass
class Provider:
    issuer: str
    process: subprocess.Popen
    clients: dict[str, dict]


@contextmanager
def oidc_provider(tmp: Path, clients: list[dict], *, ttl: dict | None = None) -> Iterator[Provider]:
    """The provider on a free loopback port, with `clients` registered; stopped at the end."""
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "oidc-provider").is_dir():
        raise RuntimeError("Node.js or tools/node/node_modules is missing: run `make env` (as root it installs "
                           "Debian's nodejs and npm, then the Node packages of tools/node)")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    config = tmp / f"oidc-provider-{port}.json"
    config.write_text(json.dumps({"issuer": issuer, "port": port, "clients": clients, "accounts": ACCOUNTS,
                                  "ttl": ttl or {}}))
    log = (tmp / f"oidc-provider-{port}.log").open("w")
    process = subprocess.Popen([node, str(SCRIPT), str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"oidc-provider exited: {(tmp / f'oidc-provider-{port}.log').read_text()[-2000:]}")
            try:
                if httpx.get(issuer + "/.well-known/openid-configuration", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("oidc-provider did not start within 30 s")
            time.sleep(0.2)
        yield Provider(issuer=issuer, process=process, clients={c["client_id"]: c for c in clients})
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


async def sign_in_at_provider(authorization_url: str, login: str, *, redirect_uri: str) -> str:
    """Fill in the provider's login page as `login`; returns the URL it sends the browser back to."""
    async with httpx.AsyncClient(timeout=20) as browser:
        url = authorization_url
        for _ in range(12):
            if url.startswith(redirect_uri):
                return url
            response = await browser.get(url)
            if response.status_code in (302, 303):
                url = urljoin(url, response.headers["location"])
                continue
            form = re.search(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', response.text, re.S)
            assert response.status_code == 200 and form, (response.status_code, response.text[:2000])
            fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form.group(2)))
            fields.update(login=login, password="any password")
            posted = await browser.post(urljoin(url, unescape(form.group(1))), data=fields)
            assert posted.status_code in (302, 303), (posted.status_code, posted.text[:2000])
            url = urljoin(url, posted.headers["location"])
        raise AssertionError(f"the provider never sent the browser back to {redirect_uri}")
