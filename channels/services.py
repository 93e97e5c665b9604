"""What the gateway's routes share, built once per app."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import httpx
from sqlalchemy import Engine
from temporalio.client import Client

from assistant.catalog import SystemCatalog
from assistant.directory import Directory
from assistant.errors import ServiceUnavailable
from assistant.revocations import Revocations
from assistant.schema import open_database
from assistant.settings import Settings
from assistant.tokens import TokenService
from channels.feedback import AnswerLog
from channels.limits import PersonLimiter
from channels.rasa_client import RasaClient
from channels.turns import TurnLog
from channels.web.oidc import OidcClient
from channels.web.sessions import Sessions
from workflows.client import RequestsClient, connect

log = logging.getLogger(__name__)


@dataclass
class GatewayServices:
    """Everything the gateway shares, made once: one database engine, one directory, the clients."""

    settings: Settings
    engine: Engine
    directory: Directory
    catalog: SystemCatalog
    tokens: TokenService
    http: httpx.AsyncClient
    rasa: RasaClient
    turns: PersonLimiter
    questions: PersonLimiter
    answers: AnswerLog  # knowledge answers as relayed, and the feedback on them
    turn_log: TurnLog  # every chat turn: who, channel, intent, outcome (never the text)
    # single sign-on (AIOS_OIDC_ISSUER): the provider, and the web sessions it opens
    oidc: OidcClient | None = None
    sessions: Sessions | None = None
    _temporal: Client | None = None
    _requests: RequestsClient | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    def build(cls, settings: Settings, *, temporal: Client | None = None, engine: Engine | None = None,
              directory: Directory | None = None) -> GatewayServices:
        """`engine` and `directory` when the app already made them (see channels.app.create_app)."""
        engine = engine if engine is not None else open_database(settings)
        directory = directory if directory is not None else Directory.load(settings.core.directory_file)
        # Keep-alive connections to Rasa and friends; no retries here: the user retries.
        http = httpx.AsyncClient(limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))
        services = cls(
            settings=settings,
            engine=engine,
            directory=directory,
            catalog=SystemCatalog.load(settings.core.systems_file),
            tokens=TokenService(settings.core.secret_key.get_secret_value(), directory,
                                ttl_seconds=settings.core.token_ttl_seconds,
                                revocations=Revocations(engine)),
            http=http,
            rasa=RasaClient(settings, http),
            turns=PersonLimiter(limit=settings.gateway.turns_per_minute, window=60, what="messages"),
            questions=PersonLimiter(limit=settings.gateway.questions_per_minute, window=60, what="questions"),
            answers=AnswerLog(engine),
            turn_log=TurnLog(engine),
        )
        services._temporal = temporal
        oidc = settings.oidc
        services.sessions = Sessions.configured(engine, oidc)
        if oidc.enabled:
            services.oidc = OidcClient(oidc, redirect_uri=oidc.callback_url(settings.gateway.url))
        return services

    async def temporal(self) -> Client | None:
        """The Temporal client, connecting on first use; None while Temporal is down."""
        if self._temporal is None:
            async with self._lock:
                if self._temporal is None:
                    try:
                        self._temporal = await connect(self.settings.temporal)
                    except ServiceUnavailable:
                        return None
        return self._temporal

    async def requests(self) -> RequestsClient:
        client = await self.temporal()
        if client is None:
            raise ServiceUnavailable("the workflow service is not reachable; try again in a moment")
        if self._requests is None:
            self._requests = RequestsClient(client, task_queue=self.settings.temporal.task_queue,
                                            rpc_timeout=self.settings.temporal.rpc_timeout_seconds)
        return self._requests

    async def close(self) -> None:
        await self.http.aclose()
        if self.oidc is not None:
            await self.oidc.close()
