"""PostgreSQL: every statement on psycopg, on connections of the store's driver pool.

Reads and the one-statement writes run in autocommit (no BEGIN/COMMIT round trips); a unit of work
that writes takes its connection at its first statement and wraps it in BEGIN ... COMMIT. The two
hot writes of the product, saving a chat task and appending an event, are one statement each
(SAVE_TASK, APPEND): one round trip instead of five or six (benchmarks/chat_loop.py,
benchmarks/agent_store.py). The sessions page comes with its total in one round trip (LATERAL).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import namedtuple_row
from sqlalchemy import Engine, create_engine, select, text, true
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.sql import Select
from sqlalchemy.sql.util import ClauseAdapter

from domain.agent.model import AgentSession, Event, StateDelta
from domain.errors import StoreUnavailable
from domain.gateway.model import ChatTask
from infrastructure.sql import urls
from infrastructure.sql.agent.repositories import json_text, session_of
from infrastructure.sql.backend import Backend
from infrastructure.sql.connection import (
    NO_PARAMS,
    Params,
    Query,
    Statement,
    Transaction,
    clash,
    compile_for,
    row_type,
    timed_out,
    unreachable,
)
from infrastructure.sql.driver_pool import Connection as RawConnection
from infrastructure.sql.driver_pool import DriverPool
from infrastructure.sql.gateway.repositories import TASK_HIT, task_of
from infrastructure.sql.urls import DEFAULT_POOL_SIZE, async_url, sync_url

DIALECT = PGDialect_psycopg()  # type: ignore[no-untyped-call]


def translate(exc: BaseException) -> BaseException:
    """psycopg's errors as the domain names them; anything else is a bug and stays as it is."""
    if isinstance(exc, psycopg.IntegrityError):
        return clash()
    if isinstance(exc, psycopg.errors.QueryCanceled):
        return timed_out()
    if isinstance(exc, psycopg.errors.DeadlockDetected):  # its victim: nothing of the transaction was written
        return StoreUnavailable("the database rolled the transaction back (it deadlocked with other work); retry")
    if isinstance(exc, psycopg.OperationalError | OSError | TimeoutError):
        return unreachable()
    return exc


class _PgTransaction(Transaction):
    def __init__(self, pool: DriverPool, read_only: bool) -> None:
        self._pool = pool
        self._read_only = read_only
        self._raw: RawConnection | None = None

    async def _connection(self) -> RawConnection:
        if self._raw is None:
            self._raw = await self._pool.acquire()
            if not self._read_only:
                await self._raw.execute("BEGIN")
        return self._raw

    async def rows(self, statement: Statement, params: Params = NO_PARAMS) -> Sequence[Any]:
        sql, values = compile_for(DIALECT, statement, params)
        try:
            raw = await self._connection()
            async with raw.cursor(row_factory=namedtuple_row) as cursor:
                await cursor.execute(sql, values)
                return await cursor.fetchall() if cursor.description is not None else []
        except Exception as exc:
            raise translate(exc) from exc

    async def run(self, statement: Statement, params: Params = NO_PARAMS) -> int:
        sql, values = compile_for(DIALECT, statement, params)
        try:
            raw = await self._connection()
            return (await raw.execute(sql, values)).rowcount
        except Exception as exc:
            raise translate(exc) from exc

    async def page_with_total(self, page: Query, total: Query, params: Params) -> tuple[Sequence[Any], int]:
        combined, columns = _counted(page, total)
        found = await self.rows(combined, params)
        page_row = row_type(columns)
        # An empty page still brings the count's row, its page columns NULL.
        return [page_row._make(row[1:]) for row in found if row[1] is not None], int(found[0][0])

    async def commit(self) -> None:
        if self._raw is not None and not self._read_only:
            try:
                await self._raw.execute("COMMIT")
            except Exception as exc:
                raise translate(exc) from exc

    async def close(self) -> None:
        raw, self._raw = self._raw, None
        if raw is None:
            return
        try:
            if not raw.broken and raw.info.transaction_status != TransactionStatus.IDLE:
                await raw.execute("ROLLBACK")
        except psycopg.Error:
            pass  # the pool discards a connection left in a transaction
        finally:
            await self._pool.release(raw)


_COUNTED: dict[int, tuple[Query, tuple[str, ...]]] = {}


def _counted(page: Query, total: Query) -> tuple[Query, tuple[str, ...]]:
    """`total`'s one row joined LATERAL to `page`, in the page's order: built once per pair."""
    found = _COUNTED.get(id(page))
    if found is None:
        assert isinstance(page.statement, Select) and isinstance(total.statement, Select)
        counted = total.statement.subquery("total")
        rows = page.statement.subquery().lateral("page")
        order = [ClauseAdapter(rows).traverse(clause) for clause in page.statement._order_by_clauses]
        statement = select(*counted.c, *rows.c).select_from(counted.outerjoin(rows, true())).order_by(*order)
        found = _COUNTED[id(page)] = (Query(statement), tuple(c.name for c in rows.c))
    return found


# Saving a chat task as one statement: upsert the caller's session (the upsert locks it, so writers
# of one session take turns; someone else's session makes it return nothing; a missing one is
# created only when :create and never deleted, else nothing is written), then upsert the task
# unless its id is another user's or session's, keeping the stored user message when none is sent
# and stored feedback unless the new metadata has its own (ChatTask.resaved). A task id that is
# already someone else's leaves the session alone (the NOT EXISTS), so a refused save writes nothing;
# only a clash with a save committing at that very moment gets past it, and UNDO_CREATED_SESSION
# takes back the session it created.
SAVE_TASK = Query(
    """
WITH s AS (
    INSERT INTO sessions (id, user_id, created_time, updated_time)
    SELECT CAST(:sid AS VARCHAR), CAST(:user AS VARCHAR), :now, :now
    WHERE NOT EXISTS (
        SELECT 1 FROM chat_tasks WHERE id = :tid AND (user_id <> :user OR session_id <> :sid)
    ) AND (
        EXISTS (SELECT 1 FROM sessions WHERE id = :sid)
        OR (CAST(:create AS BOOLEAN) AND NOT EXISTS (SELECT 1 FROM deleted_sessions WHERE id = :sid))
    )
    ON CONFLICT (id) DO UPDATE SET updated_time = GREATEST(sessions.updated_time, EXCLUDED.updated_time)
    WHERE sessions.user_id = EXCLUDED.user_id
    RETURNING id, (xmax = 0) AS created
), t AS (
    INSERT INTO chat_tasks AS c (id, session_id, user_id, user_message, message_bubbles, task_metadata,
        created_time, updated_time, search_message, search_bubbles)
    SELECT CAST(:tid AS VARCHAR), s.id, CAST(:user AS VARCHAR), :message, :bubbles, :metadata, :now, :now,
        :search_message, :search_bubbles
    FROM s
    ON CONFLICT (id) DO UPDATE SET
        user_message = COALESCE(EXCLUDED.user_message, c.user_message),
        search_message = CASE WHEN EXCLUDED.user_message IS NULL THEN c.search_message
                         ELSE EXCLUDED.search_message END,
        message_bubbles = EXCLUDED.message_bubbles,
        search_bubbles = EXCLUDED.search_bubbles,
        task_metadata = CASE
            WHEN c.task_metadata IS NULL OR NOT (CAST(c.task_metadata AS JSONB) ? 'feedback')
                OR (EXCLUDED.task_metadata IS NOT NULL AND CAST(EXCLUDED.task_metadata AS JSONB) ? 'feedback')
            THEN EXCLUDED.task_metadata
            ELSE CAST(
                jsonb_build_object('feedback', CAST(c.task_metadata AS JSONB) -> 'feedback')
                || COALESCE(CAST(EXCLUDED.task_metadata AS JSONB), CAST('{}' AS JSONB))
            AS TEXT)
        END,
        updated_time = GREATEST(c.updated_time, EXCLUDED.updated_time)
    WHERE c.user_id = EXCLUDED.user_id AND c.session_id = EXCLUDED.session_id
    RETURNING c.id, c.session_id, c.user_id, c.user_message, c.message_bubbles, c.task_metadata,
              c.created_time, c.updated_time, (c.xmax = 0) AS inserted
)
SELECT t.*, s.created AS session_created FROM s LEFT JOIN t ON true
"""
)
UNDO_CREATED_SESSION = Query(
    """
DELETE FROM sessions WHERE id = :sid AND user_id = :user AND created_time = :now
    AND NOT EXISTS (SELECT 1 FROM chat_tasks WHERE session_id = :sid)
"""
)

# The whole append as one statement: lock the session (re-checked against the expected version
# after any wait), insert the event with the next sequence unless its id is stored already, merge
# the shared scopes with jsonb's shallow `||` (the domain's merge) through upserts, and move the
# session on only when the event went in.
APPEND = Query(
    """
WITH s AS (
    SELECT last_sequence FROM agent_sessions
    WHERE app_name = :app AND user_id = :user AND id = :sid
      AND (CAST(:expected AS BIGINT) IS NULL OR version = CAST(:expected AS BIGINT))
    FOR UPDATE
), e AS (
    INSERT INTO agent_events (app_name, user_id, session_id, sequence, id, invocation_id, author, timestamp, body)
    SELECT :app, :user, :sid, s.last_sequence + 1, :eid, :inv, :author, :ts, :body FROM s
    ON CONFLICT (app_name, user_id, session_id, id) DO NOTHING
    RETURNING sequence
), app_state AS (
    INSERT INTO agent_app_states (app_name, state, update_time)
    SELECT :app, CAST(:app_delta AS TEXT), :now FROM e WHERE CAST(:app_delta AS TEXT) IS NOT NULL
    ON CONFLICT (app_name) DO UPDATE
    SET state = CAST(CAST(agent_app_states.state AS JSONB) || CAST(EXCLUDED.state AS JSONB) AS TEXT),
        update_time = EXCLUDED.update_time
), user_state AS (
    INSERT INTO agent_user_states (app_name, user_id, state, update_time)
    SELECT :app, :user, CAST(:user_delta AS TEXT), :now FROM e WHERE CAST(:user_delta AS TEXT) IS NOT NULL
    ON CONFLICT (app_name, user_id) DO UPDATE
    SET state = CAST(CAST(agent_user_states.state AS JSONB) || CAST(EXCLUDED.state AS JSONB) AS TEXT),
        update_time = EXCLUDED.update_time
)
UPDATE agent_sessions
SET version = version + 1, last_sequence = e.sequence, last_update_time = :now,
    state = CASE WHEN CAST(:session_delta AS TEXT) IS NULL THEN state
            ELSE CAST(CAST(state AS JSONB) || CAST(CAST(:session_delta AS TEXT) AS JSONB) AS TEXT) END
FROM e
WHERE app_name = :app AND user_id = :user AND id = :sid
RETURNING agent_sessions.app_name, agent_sessions.user_id, agent_sessions.id, agent_sessions.state,
    agent_sessions.version, agent_sessions.last_sequence, agent_sessions.created_time,
    agent_sessions.last_update_time
"""
)


# Message search: the user's tasks whose tsvector holds every word, ranked by ts_rank.
TASKS_MATCHING = Query(
    f"""
SELECT {TASK_HIT}
WHERE t.user_id = :user AND t.search_vector @@ plainto_tsquery('simple', :words)
ORDER BY ts_rank(t.search_vector, plainto_tsquery('simple', :words)) DESC, t.created_time DESC, t.id
LIMIT :limit OFFSET :offset
"""
)


def _json_or_none(scope: dict[str, Any]) -> str | None:
    return json_text(scope) if scope else None


class PostgresBackend(Backend):
    dialect = DIALECT

    @staticmethod
    def deadlocked(exc: BaseException) -> bool:
        return isinstance(exc.__cause__, psycopg.errors.DeadlockDetected)

    def __init__(self, url: str, *, statement_timeout_ms: int | None, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        self.pool = DriverPool(url, max_size=pool_size, statement_timeout_ms=statement_timeout_ms)
        self.save_task = self._save_task
        self.append = self._append

    async def begin(self, *, read_only: bool) -> Transaction:
        return _PgTransaction(self.pool, read_only)

    async def _one_statement(self, query: Query, params: Params) -> Any:
        autocommit = _PgTransaction(self.pool, read_only=True)
        try:
            return await autocommit.first(query, params)
        finally:
            await autocommit.close()

    async def _save_task(self, user_id: str, task: ChatTask, may_create: bool) -> tuple[ChatTask, bool] | None:
        params = {
            "create": may_create,
            "sid": task.session_id,
            "user": user_id,
            "now": task.updated_time,
            "tid": task.id,
            "message": task.user_message,
            "bubbles": task.message_bubbles,
            "metadata": task.task_metadata,
            "search_message": task.search_message(),
            "search_bubbles": task.search_bubbles(),
        }
        autocommit = _PgTransaction(self.pool, read_only=True)
        try:
            row = await autocommit.first(SAVE_TASK, params)
            if row is not None and row.id is None and row.session_created:
                await autocommit.run(UNDO_CREATED_SESSION, params)  # the clash raced past the guard
        finally:
            await autocommit.close()
        if row is None or row.id is None:
            return None
        return task_of(row), bool(row.inserted)

    async def _append(
        self,
        app_name: str,
        user_id: str,
        session_id: str,
        event: Event,
        delta: StateDelta,
        now: int,
        expected_version: int | None,
    ) -> AgentSession | None:
        params = {
            "app": app_name,
            "user": user_id,
            "sid": session_id,
            "expected": expected_version,
            "eid": event.id,
            "inv": event.invocation_id,
            "author": event.author,
            "ts": event.timestamp,
            "body": json_text(event.body),
            "now": now,
            "session_delta": _json_or_none(delta.session),
            "app_delta": _json_or_none(delta.app),
            "user_delta": _json_or_none(delta.user),
        }
        row = await self._one_statement(APPEND, params)
        return None if row is None else session_of(row)

    def tasks_matching(self, user_id: str, terms: list[str]) -> tuple[Query, dict[str, Any]]:
        return TASKS_MATCHING, {"user": user_id, "words": " ".join(terms)}

    async def ping(self) -> None:
        await self._one_statement(Query("SELECT 1"), NO_PARAMS)

    async def close(self) -> None:
        await self.pool.close()

    @staticmethod
    def sync_engine(url: str) -> Engine:
        return create_engine(
            sync_url(url),
            hide_parameters=True,
            pool_pre_ping=True,
            pool_recycle=urls.RECYCLE_S,
            connect_args={"prepare_threshold": urls.prepare_threshold(url)},
        )

    @staticmethod
    def async_engine(url: str, *, statement_timeout_ms: int | None, pool_size: int = DEFAULT_POOL_SIZE) -> AsyncEngine:
        # A connection parameter, not a SET: nothing runs (or opens a transaction) on connect.
        options: dict[str, Any] = {"prepare_threshold": urls.prepare_threshold(url)}
        if statement_timeout_ms:
            options["options"] = f"-c statement_timeout={int(statement_timeout_ms)}"
        return create_async_engine(
            async_url(url),
            hide_parameters=True,  # what callers sent stays out of error messages and so out of logs
            pool_size=pool_size,
            max_overflow=0,  # the budget is the budget (docs/operations.md)
            pool_pre_ping=True,
            pool_recycle=urls.RECYCLE_S,
            connect_args=options,
        )

    @staticmethod
    @contextmanager
    def migration_lock(engine: Engine, url: str, name: str) -> Iterator[None]:
        # An advisory lock, held by a transaction of its own for as long as the holder migrates:
        # transaction-scoped, so that through PgBouncer's transaction mode it stays on one server
        # connection and goes with it (a session-scoped lock would outlive its client there).
        key = zlib.crc32(name.encode())
        with engine.connect() as lock, lock.begin() as held:
            lock.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
            try:
                yield
            finally:
                held.rollback()
