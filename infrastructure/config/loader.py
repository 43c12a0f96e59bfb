"""Loads the YAML configuration: `${VAR}` and `${VAR, default}` from the environment, anchors allowed.

Variables are substituted into the parsed values rather than into the raw text, so a value holding
`:` or `#` cannot change the YAML's structure. An unset variable with no default becomes null; a
required field left null is an error that names both the field and the variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec
import yaml
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from infrastructure.config.model import (
    DEFAULT_AGENT_NAME,
    DEFAULT_AGENT_URL,
    DEFAULT_AGENT_URL_VARIABLE,
    DEFAULT_GATEWAY_URL,
    AgentConfig,
    AuthMode,
    Config,
    SessionServiceConfig,
    StoreType,
)
from infrastructure.sql.urls import BadDatabaseURL, parse_url

_VARIABLE = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:,\s*([^}]*?)\s*)?\}")


class ConfigError(ValueError):
    """A mistake in the configuration: one line that names the field."""


# The built-in configuration, and what a file that omits these sections gets: the variables
# .env.example lists. (Without `agents:`, one agent, `default`, on ${AGENT_DATABASE_URL, ...}.)
BUILT_IN: dict[str, Any] = {
    "session_service": {"type": "sql", "database_url": f"${{WEB_UI_GATEWAY_DATABASE_URL, {DEFAULT_GATEWAY_URL}}}"},
    "platform_service": {"database_url": "${PLATFORM_DATABASE_URL}"},
}


def load_config(path: str | Path | None, environ: Mapping[str, str] | None = None) -> Config:
    environ = os.environ if environ is None else environ
    if path is None:
        unset: dict[str, str] = {}
        return _validate(_substitute(BUILT_IN, environ, "$", unset), unset, "built-in default", environ)
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of settings")
    _require_types(raw)
    unset = {}
    raw = {**{key: value for key, value in BUILT_IN.items() if key not in raw}, **raw}
    return _validate(_substitute(raw, environ, "$", unset), unset, str(path), environ)


def _require_types(raw: dict[str, Any]) -> None:
    """A store given a database_url but no type would run in memory and lose everything at the next
    restart: say so, instead of guessing either way."""
    stores = [("session_service", raw.get("session_service"))]
    agents = raw.get("agents")
    for i, agent in enumerate(agents if isinstance(agents, list) else []):
        if isinstance(agent, dict):
            named = f" (agent {agent['name']!r})" if "name" in agent else ""
            stores.append((f"agents[{i}].session_service{named}", agent.get("session_service")))
    for where, store in stores:
        if isinstance(store, dict) and store.get("database_url") is not None and "type" not in store:
            raise ConfigError(
                f"{where}.type is missing: a store with a database_url needs type: sql "
                "(type: memory keeps nothing across restarts)"
            )


def _substitute(value: Any, environ: Mapping[str, str], where: str, unset: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, environ, f"{where}.{k}", unset) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, environ, f"{where}[{i}]", unset) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value
    whole = _VARIABLE.fullmatch(value.strip())
    if whole:
        name, default = whole.group(1), whole.group(2)
        if name in environ and environ[name] != "":
            return environ[name]
        if default is not None and default != "":
            return default
        unset[where] = name
        return None

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        found = environ.get(name) or default
        if not found:
            raise ConfigError(f"{_field(where)}: environment variable {name} is not set and has no default")
        return found

    return _VARIABLE.sub(replace, value)


def _agent_named(data: dict[str, Any], path: str) -> str:
    """`agents[2]` means little to an operator with ten agents: name the agent too."""
    match = re.match(r"\$\.agents\[(\d+)\]", path)
    agents = data.get("agents")
    if not match or not isinstance(agents, list) or int(match.group(1)) >= len(agents):
        return ""
    entry = agents[int(match.group(1))]
    return f" (agent {entry['name']!r})" if isinstance(entry, dict) and "name" in entry else ""


def default_agent(environ: Mapping[str, str]) -> AgentConfig:
    url = environ.get(DEFAULT_AGENT_URL_VARIABLE) or DEFAULT_AGENT_URL
    return AgentConfig(DEFAULT_AGENT_NAME, SessionServiceConfig(StoreType.SQL, url))


def _field(where: str) -> str:
    return where.removeprefix("$.").removeprefix("$")


def _validate(
    data: dict[str, Any], unset: dict[str, str], source: str, environ: Mapping[str, str] | None = None
) -> Config:
    logging = data.get("logging")
    if isinstance(logging, dict) and isinstance(logging.get("level"), str):  # `info` means INFO, as in logging
        data = {**data, "logging": {**logging, "level": logging["level"].upper()}}
    try:
        config = msgspec.convert(data, Config, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        path = message.rsplit(" - at `", 1)[-1].rstrip("`") if " - at `" in message else ""
        hint = f" (environment variable {unset[path]} is not set)" if path in unset else ""
        raise ConfigError(f"{source}: {message.replace('`$.', '`')}{hint}{_agent_named(data, path)}") from exc
    if config.agents is None:
        config = msgspec.structs.replace(config, agents=[default_agent(environ or {})])
    _require_urls(config, unset)
    _require_auth(config)
    names = [agent.name for agent in config.agents or []]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{source}: agents: duplicate agent name {duplicates[0]!r}")
    return config


def _require_auth(config: Config) -> None:
    auth = config.auth
    if auth.mode is AuthMode.JWT and not (auth.jwt.secret or auth.jwt.public_key_file):
        raise ConfigError("auth.jwt: mode jwt needs auth.jwt.secret (HS256) or auth.jwt.public_key_file (RS256/ES256)")
    if auth.mode is AuthMode.JWT and auth.jwt.public_key_file:
        key_file = Path(auth.jwt.public_key_file)
        if not key_file.is_file():
            raise ConfigError(f"auth.jwt.public_key_file: no such file {key_file}")
        try:  # as serve would load it: refused here, not at the first request
            serialization.load_pem_public_key(key_file.read_bytes())
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise ConfigError(f"auth.jwt.public_key_file: {key_file} is not a PEM public key") from exc
    if auth.mode is AuthMode.TRUSTED_HEADER and not auth.trusted_header.token:
        raise ConfigError("auth.trusted_header.token: mode trusted-header needs the proxy's bearer token")


def _require_urls(config: Config, unset: dict[str, str]) -> None:
    stores = [("session_service", config.session_service)] + [
        (f"agents[{i}].session_service", agent.session_service) for i, agent in enumerate(config.agents or [])
    ]
    names = {f"agents[{i}].session_service": agent.name for i, agent in enumerate(config.agents or [])}
    platform = config.platform_service.database_url
    if platform:
        try:
            parse_url(platform)
        except BadDatabaseURL as exc:
            raise ConfigError(f"platform_service.database_url: {exc}") from exc
    for where, store in stores:
        if store.type is StoreType.SQL and not store.database_url:
            variable = unset.get(f"$.{where}.database_url")
            hint = f": environment variable {variable} is not set and has no default" if variable else ""
            agent = f" (agent {names[where]!r})" if where in names else ""
            raise ConfigError(f"{where}.database_url{agent} is required when type is sql{hint}")
        if store.type is StoreType.SQL and store.database_url:
            try:
                parse_url(store.database_url)
            except BadDatabaseURL as exc:
                agent = f" (agent {names[where]!r})" if where in names else ""
                raise ConfigError(f"{where}.database_url{agent}: {exc}") from exc
