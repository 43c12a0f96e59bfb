"""A user's own data as a whole: `DELETE /api/v1/users/me/data` removes everything of the caller's."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get
from litestar.response import Stream

from app.agent_schemas import record_json
from app.dependencies import UserId
from app.examples import answer
from app.guards import identified
from app.openapi import errors
from app.problems import MEDIA_TYPE
from app.schemas import SessionResponse, TaskResponse
from app.stores import Stores
from domain.agent.service import AgentService
from domain.errors import NotFound, StoreUnavailable
from domain.gateway.service import GatewayService
from domain.paging import PageRequest
from domain.ports import FeedbackFilter

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


async def _erase(erase: Any, user_id: str) -> StoreReceipt:
    try:
        return StoreReceipt("erased", await erase(user_id))
    except StoreUnavailable:
        return StoreReceipt("unreachable")
