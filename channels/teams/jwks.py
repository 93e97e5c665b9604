"""The Bot Connector's signing keys (a JWKS document), cached and re-read on an unknown key id."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
from jwt import PyJWK
from jwt.exceptions import PyJWKError

log = logging.getLogger(__name__)

MIN_REFRESH_SECONDS = 30.0  # an unknown key id cannot make us fetch the JWKS more often than this


class SigningKeys:
    def __init__(self, url: str, http_of: Callable[[], httpx.AsyncClient], *, timeout: float,
                 max_age: float) -> None:
        self.url = url
        self._http_of = http_of
        self._timeout = timeout
        self._max_age = max_age
        self._keys: dict[str, tuple[PyJWK, list[str]]] = {}
        self._fetched = 0.0
        self._lock = asyncio.Lock()

    async def get(self, kid: str) -> tuple[PyJWK, list[str]] | None:
        """The key `kid` and its endorsements (channel ids it may sign for), or None when unknown."""
        now = time.monotonic()
        if kid not in self._keys or now - self._fetched > self._max_age:
            async with self._lock:
                stale = time.monotonic() - self._fetched
                if (kid not in self._keys and stale > MIN_REFRESH_SECONDS) or stale > self._max_age:
                    await self._fetch()
        return self._keys.get(kid)

    async def _fetch(self) -> None:
        try:
            response = await self._http_of().get(self.url, timeout=self._timeout)
            response.raise_for_status()
            document: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("teams.jwks_unavailable url=%s error=%s", self.url, type(exc).__name__)
            self._fetched = time.monotonic() - self._max_age + MIN_REFRESH_SECONDS  # retry soon, not per request
            return
        keys: dict[str, tuple[PyJWK, list[str]]] = {}
        for jwk in document.get("keys", []):
            if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or not jwk.get("kid"):
                continue
            try:
                keys[str(jwk["kid"])] = (PyJWK.from_dict(jwk, algorithm="RS256"),
                                          [str(e) for e in jwk.get("endorsements") or []])
            except PyJWKError:
                log.warning("teams.jwks_bad_key kid=%s", jwk.get("kid"))
        self._keys = keys
        self._fetched = time.monotonic()
        log.info("teams.jwks_loaded keys=%d", len(keys))
