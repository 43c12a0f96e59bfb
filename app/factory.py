"""The Litestar application: routes, problem details, OpenAPI, and the stores the config names."""

from __future__ import annotations

import os
import secrets

import structlog
from litestar import Litestar
from litestar.di import Provide
from litestar.exceptions import ValidationException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig

from app.background import Purger, RunReaper, reaper_interval
from app.controllers.agents import AgentController, AgentSessionController
from app.controllers.chat_tasks import ChatTaskController
from app.controllers.feedback import FeedbackController
from app.controllers.health import health, ready
from app.controllers.platform import PlatformController
from app.controllers.search import SearchController
from app.controllers.sessions import SessionController
from app.controllers.users import UserDataController
from app.dependencies import provide_gateway
from app.docs import docs_ui
from app.identity import CookieMiddleware, provide_caller, provide_user_id
from app.middleware import HeaderLimitMiddleware, RequestContextMiddleware
from app.openapi import document_bodies, security
from app.problems import check_request, problem_details, undecodable, unexpected, validation_failed
from app.stores import Stores, open_stores
from domain.gateway.service import GatewayService
from domain.ports import IdentityProvider
from infrastructure.config.model import Config
from infrastructure.cookies import CookieSigner
from infrastructure.identity import identity_for, identity_headers
from infrastructure.secret_key import platform_secret_keys

log = structlog.get_logger("session_store")
VERSION = "0.1.0"


def create_app(
    config: Config,
    *,
    stores: Stores | None = None,
    identity: IdentityProvider | None = None,
    secret_keys: list[str] | None = None,
    platform_keys: list[str] | None = None,
) -> Litestar:
    """Build the app. Migrations are not run here: `session-store serve` runs them before this.
    Without `secret_keys` (tests, embedding) cookies are signed with a key made up for this process.
    Without `platform_keys` the platform store's keys come from the environment, as for `serve`: a
    made-up key would leave what it encrypted unreadable after a restart."""
    if stores is None and platform_keys is None and config.platform_service.database_url:
        platform_keys, _ = platform_secret_keys(os.environ, config.server.host)
    stores = stores or open_stores(config, platform_keys)
    signer = CookieSigner(secret_keys or [secrets.token_urlsafe(32)], config.auth.cookie.max_age)

    reaper = RunReaper(stores.agents, reaper_interval(config.runs.ttl_seconds))
    gateway = GatewayService(stores.gateway)
    purger = Purger(config, gateway, stores.agents)

    async def close_stores() -> None:
        await reaper.stop()
        await purger.stop()
        await stores.close()

    docs_plugins, docs_routes = docs_ui()
    components, required = security(config.auth)
    app = Litestar(
        route_handlers=[
            *docs_routes,
            SessionController,
            AgentController,
            AgentSessionController,
            ChatTaskController,
            FeedbackController,
            SearchController,
            UserDataController,
            PlatformController,
            health,
            ready,
        ],
        dependencies={
            "gateway": Provide(provide_gateway, sync_to_thread=False),
            "caller": Provide(provide_caller, sync_to_thread=False),
            "user_id": Provide(provide_user_id, sync_to_thread=False),
        },
        middleware=[
            RequestContextMiddleware,
            DefineMiddleware(HeaderLimitMiddleware, max_size=config.server.max_header_size),
            DefineMiddleware(CookieMiddleware, signer=signer, config=config.auth.cookie),
        ],
        plugins=[problem_details],
        exception_handlers={
            Exception: unexpected,
            ValidationException: validation_failed,
            UnicodeDecodeError: undecodable,
            RecursionError: undecodable,
        },
        before_request=check_request,
        request_max_body_size=config.server.max_body_size,
        openapi_config=OpenAPIConfig(
            title="Session Store",
            version=VERSION,
            description="Keeps the conversations of an agent platform: the gateway's chat history, "
            "each agent's memory and the platform registry.",
            path="/schema",
            render_plugins=docs_plugins,
            components=components,
            security=required,
        ),
        on_startup=[reaper.start, purger.start],
        on_shutdown=[close_stores],
        logging_config=None,
        debug=False,
    )
    document_bodies(app)
    app.state.stores = stores
    app.state.gateway = gateway
    app.state.limits = config.server
    app.state.identity = identity or identity_for(config.auth)
    app.state.identity_headers = identity_headers(config.auth)
    app.state.cookie_signer = signer
    app.state.cookie_config = config.auth.cookie
    return app
