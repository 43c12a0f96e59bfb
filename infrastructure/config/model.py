"""The configuration file's shape. Unknown keys and bad values are errors, never silent fallbacks."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import msgspec

from domain.agent.model import Behavior

DEFAULT_GATEWAY_URL = "sqlite:///data/webui-gateway.db"
DEFAULT_AGENT_URL = "sqlite:///data/agent-session.db"
DEFAULT_MAX_BODY = 10 * 1024 * 1024
DEFAULT_MAX_IMPORT = 1024 * 1024 * 1024


class StoreType(StrEnum):
    SQL = "sql"
    MEMORY = "memory"


class LogFormat(StrEnum):
    AUTO = "auto"  # readable on a terminal, JSON otherwise
    JSON = "json"
    CONSOLE = "console"


class _Strict(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    pass


PoolSize = Annotated[int, msgspec.Meta(ge=1, le=1000)]


class SessionServiceConfig(_Strict, frozen=True):
    """A store: `type: memory` keeps it in this process; `type: sql` in the database at `database_url`."""

    type: StoreType = StoreType.MEMORY
    database_url: str | None = None
    # Only meaningful for agents; accepted on the gateway so one YAML anchor can serve both.
    default_behavior: Behavior = Behavior.PERSISTENT
    # The most connections this store's database URL is given in one process (default 10; stores on
    # one URL share one pool, of the largest size they ask). server.pool_size overrides it.
    pool_size: PoolSize | None = None


class PlatformServiceConfig(_Strict, frozen=True):
    database_url: str | None = None
    pool_size: PoolSize | None = None


AgentName = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]


Days = Annotated[int, msgspec.Meta(ge=1, le=36_500)]


class AgentConfig(_Strict, frozen=True):
    name: AgentName
    session_service: SessionServiceConfig = SessionServiceConfig()
    # This agent's sessions are kept this many days after their last update (over retention.agent_days).
    retention_days: Days | None = None


class ServerConfig(_Strict, frozen=True):
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8000
    # Requests with a larger body answer 413.
    max_body_size: Annotated[int, msgspec.Meta(ge=1024)] = DEFAULT_MAX_BODY
    # An import (POST /api/v1/users/me/import) is read line by line, so it may be larger: a user's
    # whole export. Each of its lines is still held to max_body_size.
    max_import_size: Annotated[int, msgspec.Meta(ge=1024)] = DEFAULT_MAX_IMPORT
    # A statement running longer is cancelled and its request answers 503 (PostgreSQL, MySQL/MariaDB).
    statement_timeout_ms: Annotated[int, msgspec.Meta(ge=100)] = 30_000
    # A request whose headers are larger answers 431 and its connection closes, before any work.
    max_header_size: Annotated[int, msgspec.Meta(ge=8192, le=16 * 1024 * 1024)] = 64 * 1024
    # A connection that has not sent its whole header within this many seconds is closed.
    header_timeout: Annotated[float, msgspec.Meta(ge=0.1, le=3600)] = 10.0
    # Every store's pool size at once (see SessionServiceConfig.pool_size).
    pool_size: PoolSize | None = None
    # Processes serving the port (`serve --workers`); each opens its own pools.
    workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"


class LoggingConfig(_Strict, frozen=True):
    level: LogLevel = LogLevel.INFO
    format: LogFormat = LogFormat.AUTO


DEFAULT_AGENT_NAME = "default"
DEFAULT_AGENT_URL_VARIABLE = "AGENT_DATABASE_URL"


class AuthMode(StrEnum):
    NONE = "none"
    JWT = "jwt"
    TRUSTED_HEADER = "trusted-header"


class JwtConfig(_Strict, frozen=True):
    secret: str | None = None  # HS256
    public_key_file: str | None = None  # RS256 / ES256
    algorithms: list[str] | None = None
    audience: str | None = None
    issuer: str | None = None


class TrustedHeaderConfig(_Strict, frozen=True):
    header: str = "X-Forwarded-User"
    token: str | None = None  # the bearer token only the proxy knows
    # The caller's rights (domain.access), space- or comma-separated, believed like the user: only
    # with the proxy's token. A request without it holds no scope: an end user.
    scopes_header: str = "X-Forwarded-Scopes"


# RFC 6265's cookie-name: an HTTP token.
_COOKIE_NAME = r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"


class CookieConfig(_Strict, frozen=True):
    name: Annotated[str, msgspec.Meta(pattern=_COOKIE_NAME, max_length=64)] = "session_store"
    secure: bool = False  # set true behind HTTPS
    max_age: Annotated[int, msgspec.Meta(ge=60)] = 30 * 24 * 3600


class AuthConfig(_Strict, frozen=True):
    mode: AuthMode = AuthMode.NONE
    jwt: JwtConfig = JwtConfig()
    trusted_header: TrustedHeaderConfig = TrustedHeaderConfig()
    cookie: CookieConfig = CookieConfig()


class RunsConfig(_Strict, frozen=True):
    # The newest events of the named session a RUN_BASED run's own session starts with.
    copy_recent_events: Annotated[int, msgspec.Meta(ge=0, le=100_000)] = 100
    # A run not ended within this many seconds is ended (its RUN_BASED session deleted) by the server.
    ttl_seconds: Annotated[int, msgspec.Meta(ge=1)] = 86_400


class RetentionConfig(_Strict, frozen=True):
    # Sessions not updated for longer are deleted with all they hold; unset: kept forever.
    gateway_days: Days | None = None
    agent_days: Days | None = None  # every agent's, unless its own retention_days says otherwise
    # How long a deleted session's id stays refused to a late save.
    tombstone_days: Days = 30
    # How often the server purges (each instance; the purge is idempotent and works in small batches).
    interval_seconds: Annotated[int, msgspec.Meta(ge=1)] = 3600

    def agent(self, agent: AgentConfig) -> int | None:
        return agent.retention_days if agent.retention_days is not None else self.agent_days


class Config(_Strict, frozen=True):
    session_service: SessionServiceConfig = SessionServiceConfig(StoreType.SQL, DEFAULT_GATEWAY_URL)
    platform_service: PlatformServiceConfig = PlatformServiceConfig()
    # Omitted: one agent named `default` on ${AGENT_DATABASE_URL, sqlite:///data/agent-session.db}.
    # `agents: []` means no agent store at all.
    agents: list[AgentConfig] | None = None
    server: ServerConfig = ServerConfig()
    logging: LoggingConfig = LoggingConfig()
    auth: AuthConfig = AuthConfig()
    runs: RunsConfig = RunsConfig()
    retention: RetentionConfig = RetentionConfig()
