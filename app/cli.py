"""`session-store`: serve, check-config, verify, purge, db upgrade|current|revision|downgrade|history|check|copy.

User mistakes (a bad config, an unreachable database, a failed migration) end in one clear line
on stderr and exit status 2 or 1; never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import structlog
from dotenv import load_dotenv

from app.stores import migrate_all, scenarios, sql_stores
from infrastructure.config.loader import ConfigError, load_config
from infrastructure.config.model import AuthMode, Config, SessionServiceConfig, StoreType
from infrastructure.logging import configure_logging
from infrastructure.secret_key import is_loopback, platform_secret_keys, session_secret_keys
from infrastructure.sql import copy, migrate, schema_commands
from infrastructure.sql.copy import CopyRefused, LineageCopy
from infrastructure.sql.migrate import MigrationFailed
from infrastructure.sql.urls import BadDatabaseURL, parse_url, redact

log = structlog.get_logger("session_store")


def _config(args: argparse.Namespace) -> Config:
    return load_config(args.config or os.environ.get("SESSION_STORE_CONFIG") or None)


def _where(store: SessionServiceConfig) -> str:
    return redact(store.database_url) if store.type is StoreType.SQL and store.database_url else "in this process"


def _describe(config: Config) -> list[str]:
    store = config.session_service
    lines = [f"gateway store: {store.type.value} ({_where(store)})"]
    for agent in config.agents or []:
        service = agent.session_service
        lines.append(f"agent {agent.name}: {service.type.value} ({_where(service)}), {service.default_behavior.value}")
    platform = config.platform_service.database_url
    lines.append(f"platform store: {redact(platform) if platform else 'not configured (routes answer 501)'}")
    return lines


def cmd_serve(args: argparse.Namespace) -> int:
    from app.factory import create_app

    config = _config(args)
    configure_logging(config.logging)
    host = args.host or os.environ.get("HOST") or config.server.host
    port = _port(args.port or os.environ.get("PORT") or config.server.port)
    listening = _listen(host, port)
    for line in _describe(config):
        log.info("store", detail=line)
    scenario, _ = scenarios(config)
    if scenario.broken:
        log.warning("scenario", scenario=scenario.value, meaning=scenario.meaning, advice=scenario.caveat)
    else:
        log.info("scenario", scenario=scenario.value, meaning=scenario.meaning)
    for lineage, url, before, after in migrate_all(config):
        if before == after:
            log.info("schema current", store=lineage, database=redact(url), revision=after)
        else:
            log.info("schema migrated", store=lineage, database=redact(url), before=before, after=after)
    keys, generated = session_secret_keys(os.environ, host)
    if generated:
        log.warning(
            "SESSION_SECRET_KEY is not set: cookies are signed with a key generated for development "
            "and kept in data/session-secret-key; set SESSION_SECRET_KEY in production"
        )
    if config.auth.mode is AuthMode.NONE and not is_loopback(host):
        log.warning(
            "auth.mode is none on a non-loopback address: callers choose their user with X-User-Id; "
            "use auth.mode jwt or trusted-header in production",
            host=host,
        )
    platform_keys = None
    if config.platform_service.database_url:
        platform_keys, generated = platform_secret_keys(os.environ, host)
        if generated:
            log.warning(
                "PLATFORM_SECRET_KEY is not set: platform configs are encrypted with a key generated for "
                "development and kept in data/platform-secret-key; set PLATFORM_SECRET_KEY in production"
            )
    workers = args.workers or config.server.workers
    log.info("serving", host=host, port=port, auth=config.auth.mode.value, workers=workers)
    listening.close()  # it showed the address is free; Granian binds its own
    if workers > 1:
        # Each worker builds the app as this process would have (app.worker), from the same config
        # file and the keys start-up made; the migrations above ran once, before any of them.
        if args.config:
            os.environ["SESSION_STORE_CONFIG"] = str(Path(args.config).resolve())
        os.environ["HOST"] = host
        _server(None, host, port, config, workers).serve()
        return 0
    app = create_app(config, secret_keys=keys, platform_keys=platform_keys)
    # What start-up built (modules, routes, engines) lives as long as the process: out of the
    # collector's sight, a full collection no longer walks it each time requests allocate a lot.
    gc.collect()
    gc.freeze()
    asyncio.run(_serve(app, host, port, config))
    return 0


def _granian_settings(config: Config) -> dict[str, Any]:
    """What every Granian server of ours is told: it answers headers over server.max_header_size with
    431 and closes a connection whose header is not in within server.header_timeout."""
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    return {
        "interface": Interfaces.ASGI,
        "http": HTTPModes.http1,
        "websockets": False,
        "backlog": 2048,
        "http1_settings": HTTP1Settings(
            header_read_timeout=int(config.server.header_timeout * 1000),
            max_buffer_size=config.server.max_header_size,
        ),
        # Its own lines go through our handler (one format per process); its access log would
        # duplicate ours, which carries the request id. Errors only: the embedded mode announces
        # itself as experimental at every start.
        "log_level": LogLevels.error,
        "log_dictconfig": {
            "version": 1,
            "disable_existing_loggers": False,
            "loggers": {
                "_granian": {"handlers": [], "propagate": True},
                "granian.access": {"handlers": [], "propagate": False},
            },
        },
    }


def _server(app: Any, host: str, port: int, config: Config, workers: int) -> Any:
    """Granian serving `app` in this process (workers 1), or `workers` processes each building the
    app (app.worker). SIGTERM and SIGINT stop accepting, let requests in flight finish (in every
    worker), then run the app's shutdown."""
    if workers == 1:
        from granian.server.embed import Server

        return Server(app, address=host, port=port, **_granian_settings(config))
    from granian import Granian

    return Granian(
        "app.worker:build",
        factory=True,
        address=host,
        port=port,
        workers=workers,
        workers_kill_timeout=30,
        **_granian_settings(config),
    )


async def _serve(app: Any, host: str, port: int, config: Config) -> None:
    server = _server(app, host, port, config, 1)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, server.stop)
    await server.serve()


class CannotListen(Exception):
    pass


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of at least 1")
    return int(value)


def _port(value: int | str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise ConfigError(f"PORT: {value!r} is not a port number (0-65535)")
    return port


def _listen(host: str, port: int) -> socket.socket:
    """The server's socket, bound before anything else is done: a taken port is one clear line."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise CannotListen(f"cannot listen on {host}:{port}: {reason}") from exc


def cmd_check_config(args: argparse.Namespace) -> int:
    """Exit 0 for scenarios A, B and C; 3 for D, which the guide calls a broken experience."""
    config = _config(args)
    for line in _describe(config):
        print(line)
    scenario, per_agent = scenarios(config)
    for name, pair in per_agent.items():
        if pair is not scenario:
            print(f"agent {name}: scenario {pair.value}: {pair.meaning}")
    print(f"Scenario {scenario.value}: {scenario.meaning}")
    if scenario.caveat:
        print(f"{'warning' if scenario.broken else 'note'}: {scenario.caveat}")
    return 3 if scenario.broken else 0


def cmd_verify(args: argparse.Namespace) -> int:
    from app.verify import run_verify

    path = args.config or os.environ.get("SESSION_STORE_CONFIG")
    if not path:
        raise ConfigError("verify needs --config FILE (the configuration to verify)")
    return run_verify(load_config(path), Path(path))


def cmd_purge(args: argparse.Namespace) -> int:
    """The retention purge the server runs in the background, once, now (migrating first, as serve
    does); with --dry-run, what it would delete."""
    from app.background import purge
    from app.stores import open_stores
    from domain.gateway.service import GatewayService

    config = _config(args)
    migrate_all(config)
    stores = open_stores(config, platform_secret_keys(os.environ, config.server.host)[0])

    async def run() -> dict[str, Any]:
        try:
            return await purge(config, GatewayService(stores.gateway), stores.agents, dry_run=args.dry_run)
        finally:
            await stores.close()

    verb = "would delete" if args.dry_run else "deleted"
    retention = config.retention
    kept = {"gateway": retention.gateway_days} | {f"agent {a.name}": retention.agent(a) for a in config.agents or []}
    for store, purged in asyncio.run(run()).items():
        days = kept.get(store)
        policy = f"sessions kept {days} days" if days else "sessions kept forever"
        tombstones = f", {purged.tombstones} tombstone(s) older than {retention.tombstone_days} days"
        tombstones = tombstones if store == "gateway" else ""
        print(f"{store} ({policy}): {verb} {purged.sessions} session(s){tombstones}")
    return 0


LINEAGES = ("gateway", "agent", "platform")


def reseal(config: Config) -> int:
    """Seal the platform registry's configs under the current PLATFORM_SECRET_KEY, so the keys listed
    in PLATFORM_SECRET_KEY_PREVIOUS may be dropped."""
    from infrastructure.sql.platform.store import SqlPlatformStore
    from infrastructure.sql.platform.vault import SealedByAnotherKey

    url = config.platform_service.database_url
    if not url:
        print("no platform store configured: nothing to do")
        return 0
    keys, _ = platform_secret_keys(os.environ, config.server.host)

    async def run() -> int:
        store = SqlPlatformStore.at(url, keys)
        try:
            return await store.reseal()
        finally:
            await store.close()

    try:
        rewritten = asyncio.run(run())
    except SealedByAnotherKey as exc:
        print(f"session-store: {exc}", file=sys.stderr)
        return 1
    print(f"platform store at {redact(url)}: {rewritten} config(s) sealed under the current key")
    return 0


def cmd_copy(args: argparse.Namespace) -> int:
    source, target = args.source, args.target
    try:
        parsed = parse_url(source)
        if parsed == parse_url(target):
            raise CopyRefused("--from and --to are the same database")
    except BadDatabaseURL as exc:
        raise CopyRefused(str(exc)) from exc
    if parsed.get_backend_name() == "sqlite" and not Path(parsed.database or "").is_file():
        raise CopyRefused(f"no SQLite database at {parsed.database} (--from)")  # rather than create an empty one
    lineages = [args.lineage] if args.lineage else copy.lineages_in(source)
    if not lineages:
        raise CopyRefused(f"{redact(source)} holds no Session Store tables (no gateway, agent or platform store)")
    shown = [0.0]

    def progress(line: str) -> None:  # a line every few seconds, not one a batch
        if time.monotonic() - shown[0] > 2:
            shown[0] = time.monotonic()
            print(f"  ... {line}", file=sys.stderr, flush=True)

    verified = True
    for lineage in lineages:
        print(f"copying the {lineage} store: {redact(source)} -> {redact(target)}", flush=True)
        try:
            outcome = copy.copy_lineage(lineage, source, target, merge=args.merge, batch=args.batch, progress=progress)
        except KeyboardInterrupt:
            print("session-store: copy interrupted; run the same command again to resume", file=sys.stderr)
            return 130
        verified = _report_copy(outcome) and verified
    return 0 if verified else 1


def _report_copy(outcome: LineageCopy) -> bool:
    if outcome.resumed:
        print("  (an interrupted copy resumed where it stopped)")
    for table in outcome.tables:
        moved = f"{table.copied:,} copied" + (f", {table.already_there:,} already there" if table.already_there else "")
        if table.differing:
            shown = ", ".join(table.differing[:5]) + (", ..." if len(table.differing) > 5 else "")
            moved += f", {len(table.differing):,} not as in the source, the target's left as they are ({shown})"
        if table.verified:
            check = f"{table.target_rows:,} rows on both sides, checksums equal ({table.target_checksum[:12]})"
        else:
            source = f"{table.source_rows:,} rows ({table.source_checksum[:12]})"
            check = f"source {source}, target {table.target_rows:,} rows ({table.target_checksum[:12]})"
        print(f"  {table.name}: {moved}; {check}")
    if outcome.verified:
        print(f"the {outcome.lineage} store is copied" + (" and verified" if not outcome.merge else " (merged)"))
    else:
        print(f"the {outcome.lineage} store's copy does NOT match its source (above)")
    return outcome.verified


def cmd_db(args: argparse.Namespace) -> int:
    if args.db_command == "copy":
        return cmd_copy(args)
    if args.db_command == "revision":
        path = schema_commands.revision(args.lineage, args.message, args.scratch_url)
        print(f"{args.lineage}: new revision {path}")
        return 0
    config = _config(args)
    if args.db_command == "reseal":
        return reseal(config)
    stores = [
        (lineage, url) for lineage, url in sql_stores(config) if getattr(args, "lineage", None) in (None, lineage)
    ]
    if not stores:
        print("no SQL store configured: nothing to do")
    differs = False
    for lineage, url in stores:
        where = f"{lineage} store at {redact(url)}"
        if args.db_command == "upgrade":
            before, after = migrate.upgrade(lineage, url)
            print(f"{where}: {before or 'empty'} -> {after}" if before != after else f"{where}: {after} (current)")
        elif args.db_command == "current":
            revision, head = migrate.current(lineage, url), migrate.head(lineage)
            state = "current" if revision == head else f"behind head {head}"
            print(f"{where}: {revision or 'empty'} ({state})")
        elif args.db_command == "downgrade":
            schema_commands.downgrade(lineage, url, args.revision)
            print(f"{where}: now at {migrate.current(lineage, url) or 'empty'}")
        elif args.db_command == "history":
            print(f"{where}:")
            schema_commands.history(lineage, url)
        else:
            difference = schema_commands.check(lineage, url)
            differs = differs or difference is not None
            print(f"{where}: {difference or 'matches the schema the code uses'}")
    return 1 if differs else 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="session-store", description=__doc__.splitlines()[0] if __doc__ else None)
    root.add_argument("--config", help="YAML config file (default: $SESSION_STORE_CONFIG, else built-in)")
    commands = root.add_subparsers(dest="command", required=True)

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--config", default=argparse.SUPPRESS, help="YAML config file")
        return p

    serve = with_config(commands.add_parser("serve", help="run migrations, then serve the API"))
    serve.add_argument("--host", help="bind address (default: $HOST, else server.host, else 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: $PORT, else server.port, else 8000)")
    serve.add_argument("--workers", type=int, help="processes serving the port (default: server.workers, else 1)")
    serve.set_defaults(run=cmd_serve)
    with_config(commands.add_parser("check-config", help="validate the config and show the stores")).set_defaults(
        run=cmd_check_config
    )
    verify = with_config(
        commands.add_parser("verify", help="run the guide's Verify Migration steps against a config, for real")
    )
    verify.set_defaults(run=cmd_verify)
    purge = with_config(
        commands.add_parser("purge", help="delete what retention.* says is too old, now (the server does it hourly)")
    )
    purge.add_argument("--dry-run", action="store_true", help="only print what would be deleted")
    purge.set_defaults(run=cmd_purge)
    db = with_config(commands.add_parser("db", help="database schema"))
    db_commands = db.add_subparsers(dest="db_command", required=True)
    with_config(db_commands.add_parser("upgrade", help="migrate every SQL store to the latest schema"))
    with_config(db_commands.add_parser("current", help="show each SQL store's schema revision"))
    revision = db_commands.add_parser(
        "revision", help="write a lineage's next migration, autogenerated against a scratch database"
    )
    revision.add_argument("--lineage", choices=LINEAGES, required=True)
    revision.add_argument("-m", "--message", required=True, help="what the migration does")
    revision.add_argument(
        "--scratch-url", help="scratch database to compare against (default: a temporary SQLite file)"
    )
    downgrade = with_config(
        db_commands.add_parser("downgrade", help="take a lineage's SQL stores back to an earlier revision")
    )
    downgrade.add_argument("--lineage", choices=LINEAGES, required=True)
    downgrade.add_argument("revision", nargs="?", default="-1", help="target revision (default: -1, one back)")
    history = with_config(db_commands.add_parser("history", help="list each SQL store's revisions"))
    history.add_argument("--lineage", choices=LINEAGES)
    check = with_config(
        db_commands.add_parser("check", help="compare each SQL store's tables with the schema the code uses")
    )
    check.add_argument("--lineage", choices=LINEAGES)
    with_config(
        db_commands.add_parser(
            "reseal", help="encrypt the platform registry's configs under the current PLATFORM_SECRET_KEY"
        )
    )
    copying = db_commands.add_parser(
        "copy", help="copy whole stores from one database to another (SQLite to PostgreSQL, say), resumably"
    )
    copying.add_argument("--from", dest="source", required=True, metavar="URL", help="the database copied from")
    copying.add_argument("--to", dest="target", required=True, metavar="URL", help="the database copied into")
    copying.add_argument("--lineage", choices=LINEAGES, help="one store only (default: every store --from holds)")
    copying.add_argument(
        "--merge", action="store_true", help="add to a target that holds rows already (none is overwritten)"
    )
    copying.add_argument("--batch", type=_positive, default=copy.DEFAULT_BATCH, help="rows a transaction (default 500)")
    db.set_defaults(run=cmd_db)
    return root


# `serve` could not listen (the address is taken, or not this machine's); 3 is check-config's Scenario D.
EXIT_CANNOT_LISTEN = 4


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # Variables a .env file in the working directory sets, unless the environment already does.
    load_dotenv(Path.cwd() / ".env", override=False)
    try:
        return int(args.run(args))
    except ConfigError as exc:
        print(f"session-store: config error: {exc}", file=sys.stderr)
        return 2
    except MigrationFailed as exc:
        print(f"session-store: {'cannot start' if args.command == 'serve' else 'failed'}: {exc}", file=sys.stderr)
        return 1
    except CopyRefused as exc:
        print(f"session-store: copy failed: {exc}", file=sys.stderr)
        return 1
    except CannotListen as exc:
        print(f"session-store: {exc}", file=sys.stderr)
        return EXIT_CANNOT_LISTEN


if __name__ == "__main__":
    sys.exit(main())
