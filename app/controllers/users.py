"""A user's own data as a whole: `DELETE /api/v1/users/me/data` removes everything of the caller's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.exceptions import HTTPException
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema
from litestar.response import Stream

from app.agent_schemas import record_json
from app.dependencies import UserId
from app.examples import answer
from app.guards import identified
from app.openapi import errors
from app.problems import MEDIA_TYPE
from app.schemas import SessionResponse, TaskResponse
from app.stores import Stores
from domain.agent.model import EVENT_FIELDS
from domain.agent.service import AgentService, EventInput
from domain.checks import NUL_REASON, nul_at
from domain.errors import InvalidInput, NotFound, StoreUnavailable
from domain.gateway.model import ChatTask, Feedback, FeedbackType, Session, SessionSource
from domain.gateway.service import GatewayService, Importable, check_importable
from domain.paging import PageRequest
from domain.ports import FeedbackFilter
from infrastructure.config.model import ServerConfig

NDJSON = "application/x-ndjson"
EXPORT_PAGE = 100
_encode = msgspec.json.encode


class StoreReceipt(msgspec.Struct, omit_defaults=True):
    status: Annotated[str, msgspec.Meta(description="`erased`, or `unreachable`: that store still holds data.")]
    removed: dict[str, int] | None = None


class ErasureReceipt(msgspec.Struct):
    gateway: StoreReceipt
    agents: dict[str, StoreReceipt]


RECEIPT = {
    "gateway": {"status": "erased", "removed": {"feedback": 3, "chatTasks": 41, "sessions": 7}},
    "agents": {"helper": {"status": "erased", "removed": {"events": 96, "sessions": 7, "userState": 1, "runs": 2}}},
}


async def _lines(request: Request[Any, Any, Any]) -> AsyncIterator[tuple[int, bytes]]:
    """The body's lines as they arrive, numbered from 1: a whole export need not fit in memory. 413
    when the body passes server.max_import_size, or a line server.max_body_size (the lines before
    it are imported)."""
    limits: ServerConfig = request.app.state.limits
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_import_size:
        raise _too_large(f"the import is over server.max_import_size ({limits.max_import_size} bytes)")
    pending, number, received = bytearray(), 0, 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limits.max_import_size:
            raise _too_large(f"the import passed server.max_import_size ({limits.max_import_size} bytes)")
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:  # a long line arrives in many chunks: no re-scan
            pending += chunk[start:end]
            number, start = number + 1, end + 1
            yield number, bytes(pending)
            pending.clear()
        pending += chunk[start:]
        if len(pending) > limits.max_body_size:
            raise _too_large(f"line {number + 1} is over server.max_body_size ({limits.max_body_size} bytes)")
    if pending:
        yield number + 1, bytes(pending)


def _too_large(detail: str) -> HTTPException:
    return HTTPException(status_code=413, detail=f"{detail}; the lines before it are imported")


@dataclass
class _NdjsonBody(Operation):
    """The import's request body as OpenAPI says it: NDJSON, read raw (Litestar would decode it as JSON)."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            content={
                NDJSON: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, description="One JSON record a line."))
            },
            description="An export of `GET /api/v1/users/me/export`: one JSON record a line.",
            required=True,
        )


class UserDataController(Controller):
    path = "/api/v1/users/me"
    guards = [identified]
    tags = ["Your data"]

    @get(
        "/export",
        summary="Export everything of mine (NDJSON)",
        description="One JSON object a line, each with a `kind`: `session`, `chatTask`, `feedback` (the gateway "
        "store), then per agent `userState`, `agentSession` and `agentEvent` (with `agent`). Streamed as it is "
        "read, batch by batch: the server holds one batch whatever the size.",
        media_type=NDJSON,
        responses=errors(503),
    )
    async def export(self, user_id: UserId, request: Request[Any, Any, Any]) -> Stream:
        stores: Stores = request.app.state.stores

        async def lines() -> Any:
            async for line in _gateway_lines(request.app.state.gateway, user_id):
                yield line
            for name, agent in stores.agents.items():
                async for line in _agent_lines(name, agent, user_id):
                    yield line

        return Stream(lines(), media_type=NDJSON)

    @post(
        "/import",
        summary="Import an export into my account",
        description="The NDJSON of `GET /api/v1/users/me/export` (`application/x-ndjson`), into the caller's own "
        "account: the user ids in the file are replaced by the caller's; ids and times are kept. Importing the "
        "same file twice changes nothing the second time (`kept`). A record whose id another user holds is "
        "skipped and reported, never overwritten. A malformed line stops the import with a 422 naming its line "
        "number; the lines before it stay imported. The body is read line by line, so a whole export may be "
        "larger than `server.max_body_size`, which bounds each line; `server.max_import_size` bounds the body "
        "(413 past either, the lines before it imported).",
        status_code=200,
        responses=errors(413, 422, 503),
        operation_class=_NdjsonBody,
        request_max_body_size=None,  # read line by line under server.max_import_size (_lines)
    )
    async def import_records(self, user_id: UserId, request: Request[Any, Any, Any]) -> ImportReport:
        stores: Stores = request.app.state.stores
        importer = _Importer(user_id, request.app.state.gateway, stores.agents)
        async for number, raw in _lines(request):
            if raw.strip():
                await importer.line(number, raw)
        await importer.flush()
        return importer.report

    @delete(
        "/data",
        summary="Delete everything of mine",
        description="The caller's sessions, chat tasks and feedback in the gateway store, and in every agent "
        "store their sessions, events, `user:` state and runs: 200 with what each store removed. Again: zeros. "
        "When a store cannot be reached, 503 (problem+json) whose `stores` says which store still holds "
        "data; what the others removed stays removed.",
        status_code=200,
        responses={**answer(ErasureReceipt, RECEIPT, "What each store removed."), **errors(503)},
    )
    async def erase(self, user_id: UserId, request: Request[Any, Any, Any]) -> Response[Any]:
        stores: Stores = request.app.state.stores
        gateway = await _erase(request.app.state.gateway.erase_user, user_id)
        agents = {name: await _erase(agent.erase_user, user_id) for name, agent in stores.agents.items()}
        receipt = ErasureReceipt(gateway, agents)
        if all(r.status == "erased" for r in (gateway, *agents.values())):
            return Response(receipt)
        body = {
            "type": "about:blank",
            "title": "Service Unavailable",
            "status": 503,
            "detail": "some stores could not be reached: they still hold your data; try again",
            "stores": msgspec.to_builtins(receipt),
        }
        return Response(body, status_code=503, media_type=MEDIA_TYPE, headers={"Retry-After": "5"})


def _line(kind: str, record: Any, **beside: Any) -> bytes:
    """One NDJSON line: the record's own JSON with `kind` (and `beside`) in front."""
    head = _encode({"kind": kind, **beside})
    body = record if isinstance(record, bytes) else _encode(record)
    return head[:-1] + (b"," + body[1:] if body != b"{}" else b"}") + b"\n"


async def _gateway_lines(gateway: GatewayService, user_id: str) -> Any:
    page = PageRequest(size=EXPORT_PAGE)
    while True:  # the sessions page by page, each with its whole history batch by batch
        found = await gateway.list_sessions(user_id, page)
        for session in found.items:
            yield _line("session", SessionResponse.of(session))
            try:
                async for batch in gateway.whole_history(user_id, session.id):
                    yield b"".join(_line("chatTask", TaskResponse.of(task)) for task in batch)
            except NotFound:
                continue  # deleted while the export ran
        if found.next_cursor is None:
            break
        page = PageRequest(size=EXPORT_PAGE, after=found.items[-1].sort_key)
    number = 1
    while True:
        feedback = await gateway.list_feedback(FeedbackFilter(user_id), PageRequest(size=EXPORT_PAGE, number=number))
        for f in feedback:
            yield _line(
                "feedback",
                {
                    "id": f.id,
                    "sessionId": f.session_id,
                    "taskId": f.task_id,
                    "rating": f.rating.value,
                    "comment": f.comment,
                    "createdTime": f.created_time,
                },
            )
        if len(feedback) < EXPORT_PAGE:
            return
        number += 1


async def _agent_lines(name: str, agent: AgentService, user_id: str) -> Any:
    yield _line("userState", {"state": await agent.user_state(user_id)}, agent=name)
    page = PageRequest(size=EXPORT_PAGE)
    while True:
        found = await agent.list_sessions(user_id, page)
        for view in found.items:
            s = view.session
            own = {"id": s.id, "state": s.state, "createdTime": s.created_time, "lastUpdateTime": s.last_update_time}
            yield _line("agentSession", own, agent=name)
            try:
                _, batches = await agent.whole_session(user_id, s.id)
                async for batch in batches:
                    yield b"".join(_line("agentEvent", record_json(e), agent=name, sessionId=s.id) for e in batch)
            except NotFound:
                continue
        if found.next_cursor is None:
            return
        page = PageRequest(size=EXPORT_PAGE, after=found.items[-1].session.sort_key)


class ImportReport(msgspec.Struct):
    added: dict[str, int]
    kept: Annotated[dict[str, int], msgspec.Meta(description="Already there: importing twice changes nothing.")]
    skipped: Annotated[list[dict[str, Any]], msgspec.Meta(description="`{line, kind, reason}` of each refused.")]


class _Record(msgspec.Struct):
    kind: str


class _TaskRecord(msgspec.Struct, rename="camel"):
    task_id: str
    session_id: str
    message_bubbles: str
    created_time: int
    updated_time: int
    user_message: str | None = None
    task_metadata: str | None = None


class _FeedbackRecord(msgspec.Struct, rename="camel"):
    id: str
    session_id: str
    task_id: str
    rating: FeedbackType
    created_time: int
    comment: str | None = None


class _AgentRecord(msgspec.Struct, rename="camel"):
    agent: str
    id: str = ""
    session_id: str = ""
    state: dict[str, Any] = msgspec.field(default_factory=dict)
    created_time: int | None = None
    last_update_time: int | None = None


IMPORT_BATCH = 100  # gateway records a transaction: a 100,000-task export is not 100,000 commits
_BAD_LINE = (msgspec.DecodeError, msgspec.ValidationError, InvalidInput, KeyError, TypeError, ValueError)


class _Importer:
    """An import's lines in order: the gateway's records in batches of a transaction each (a session
    before its tasks, as an export has them), the agents' one at a time between them."""

    def __init__(self, user_id: str, gateway: GatewayService, agents: dict[str, AgentService]) -> None:
        self.user_id, self.gateway, self.agents = user_id, gateway, agents
        self.report = ImportReport({}, {}, [])
        self._pending: list[tuple[int, str, Importable]] = []

    async def line(self, number: int, raw: bytes) -> None:
        try:
            kind = msgspec.json.decode(raw, type=_Record).kind
            if b"\\u0000" in raw and (field := nul_at(msgspec.json.decode(raw), "")) is not None:
                raise InvalidInput(field, NUL_REASON)  # no store may be handed one (app.problems.check_request)
            record = _gateway_record(kind, raw, self.user_id)
            if record is not None:
                check_importable(record)
                self._pending.append((number, kind, record))
                if len(self._pending) >= IMPORT_BATCH:
                    await self.flush()
                return
            await self.flush()
            self._count(number, kind, await _import_agent_line(kind, raw, self.user_id, self.agents))
        except _BAD_LINE as exc:
            await self.flush()
            raise InvalidInput(f"line {number}", f"{exc}; the lines before it are imported") from exc

    async def flush(self) -> None:
        pending, self._pending = self._pending, []
        if pending:
            outcomes = await self.gateway.import_records(self.user_id, [record for _, _, record in pending])
            for (number, kind, _), outcome in zip(pending, outcomes, strict=True):
                self._count(number, kind, outcome)

    def _count(self, number: int, kind: str, outcome: str) -> None:
        if outcome in ("added", "kept"):
            counts = self.report.added if outcome == "added" else self.report.kept
            counts[kind] = counts.get(kind, 0) + 1
        else:
            self.report.skipped.append({"line": number, "kind": kind, "reason": outcome})


def _gateway_record(kind: str, raw: bytes, user_id: str) -> Importable | None:
    """The line as the gateway's record, the caller's; None when it is not the gateway's."""
    if kind == "session":
        s = msgspec.json.decode(raw, type=SessionResponse)
        return Session(
            s.id, user_id, s.name, s.agent_id, s.project_id, s.created_time, s.updated_time, s.project_name,
            SessionSource(s.source), s.has_running_background_task, s.scheduled_task_id, s.scheduled_task_name,
            s.last_viewed_at,
        )  # fmt: skip
    if kind == "chatTask":
        t = msgspec.json.decode(raw, type=_TaskRecord)
        return ChatTask(t.task_id, t.session_id, user_id, t.user_message, t.message_bubbles, t.task_metadata,
                        t.created_time, t.updated_time)  # fmt: skip
    if kind == "feedback":
        f = msgspec.json.decode(raw, type=_FeedbackRecord)
        return Feedback(f.id, f.session_id, f.task_id, user_id, f.rating, f.comment, f.created_time)
    return None


async def _import_agent_line(kind: str, raw: bytes, user_id: str, agents: dict[str, AgentService]) -> str:
    """ "added" | "kept" | the reason it was refused, of an agent's line (or one of no kind we know)."""
    if kind not in ("userState", "agentSession", "agentEvent"):
        return "not a kind of record an export holds"
    record = msgspec.json.decode(raw, type=_AgentRecord)
    agent = agents.get(record.agent)
    if agent is None:
        return f"no agent {record.agent!r} here"
    if kind == "userState":
        return await agent.import_user_state(user_id, record.state)
    if kind == "agentSession":
        return await agent.import_session(
            user_id, record.id, record.state, record.created_time, record.last_update_time
        )
    event = msgspec.json.decode(raw)
    body = {k: v for k, v in event.items() if k not in EVENT_FIELDS and k not in ("kind", "agent", "sessionId")}
    data = EventInput(
        str(event["invocationId"]), str(event["author"]), body, id=record.id, timestamp=event["timestamp"]
    )
    try:
        appended = await agent.append_event(user_id, record.session_id, data)
    except NotFound:
        return "no agent session of this id is yours (import its session first)"
    return "added" if appended.created else "kept"


async def _erase(erase: Any, user_id: str) -> StoreReceipt:
    try:
        return StoreReceipt("erased", await erase(user_id))
    except StoreUnavailable:
        return StoreReceipt("unreachable")
