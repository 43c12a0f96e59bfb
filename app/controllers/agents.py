"""Agent stores over HTTP: each configured agent's sessions, events, state and runs."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.openapi import ResponseSpec
from litestar.params import HeaderParameter, JSONBody, PathParameter, QueryParameter

from app.agent_schemas import (
    AgentInfo,
    AgentList,
    AgentSessionCreate,
    AgentSessionList,
    AgentSessionResponse,
    EventCreate,
    EventList,
    EventResponse,
    RunCreate,
    RunResponse,
    UserState,
    event_json,
    record_json,
)
from app.dependencies import UserId
from app.guards import reaches_agents, reaches_this_agent
from app.openapi import errors
from app.params import Cursor, PageSize
from app.problems import invalid_params, problem
from app.stores import Stores
from app.streaming import json_array
from domain.access import Caller
from domain.agent.model import Behavior
from domain.agent.service import AgentService, EventInput
from domain.checks import check_id
from domain.errors import NotFound
from domain.paging import PageRequest, decode_cursor

Agent = NamedDependency[AgentService]
SessionId = Annotated[str, PathParameter(description="The session id (the gateway's, for PERSISTENT runs).")]


def provide_agent(
    agent_name: Annotated[str, PathParameter(description="A configured agent's name.")],
    request: Request[Any, Any, Any],
) -> AgentService:
    # After the guard: a caller without the right to this name learns nothing of it.
    stores: Stores = request.app.state.stores
    agent = stores.agents.get(agent_name)
    if agent is None:
        raise NotFound("agent", agent_name)
    return agent


def etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def expected_version(if_match: str | None) -> int | None:
    """`If-Match: "<version>"` (weak or bare accepted; `*` matches any version)."""
    if if_match is None or if_match.strip() == "*":
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    # A version has at most 16 digits (domain.checks.MAX_WHOLE): a longer one was never issued.
    if not (value.isascii() and value.isdigit() and len(value) <= 16):
        raise problem(
            400,
            "Bad Request",
            'If-Match: must be the session\'s ETag, such as "3"',
            extra=invalid_params("If-Match", "not an ETag this service issued"),
        )
    return int(value)


class AgentController(Controller):
    path = "/api/v1/agents"
    tags = ["Agents"]

    @get(
        "/",
        summary="The configured agents the caller may reach (never their database URLs)",
        guards=[reaches_agents],
        responses=errors(401, 403, store=False),
    )
    async def list_agents(self, state: State, caller: NamedDependency[Caller]) -> AgentList:
        stores: Stores = state.stores
        return AgentList(
            [
                AgentInfo(name, stores.agent_types[name].value, agent.default_behavior.value)
                for name, agent in stores.agents.items()
                if caller.may_reach_agent(name)
            ]
        )


class AgentSessionController(Controller):
    path = "/api/v1/agents/{agent_name:str}"
    tags = ["Agents"]
    guards = [reaches_this_agent]
    dependencies = {"agent": Provide(provide_agent, sync_to_thread=False)}

    @post(
        "/sessions",
        summary="Create a session in the agent's store",
        status_code=201,
        responses=errors(400, 404, 409, 413),
    )
    async def create(
        self, data: JSONBody[AgentSessionCreate], agent: Agent, user_id: UserId
    ) -> Response[AgentSessionResponse]:
        view = await agent.create_session(user_id, data.session_id, data.state)
        return Response(AgentSessionResponse.of(agent.name, view), status_code=201, headers=etag(view.session.version))

    @get(
        "/sessions",
        summary="The caller's sessions of this agent, newest first, without events",
        responses=errors(400, 404),
    )
    async def list_sessions(
        self,
        agent: Agent,
        user_id: UserId,
        page_size: PageSize = 20,
        cursor: Cursor = None,
    ) -> AgentSessionList:
        page = await agent.list_sessions(
            user_id, PageRequest(size=page_size, after=decode_cursor(cursor) if cursor else None)
        )
        return AgentSessionList([AgentSessionResponse.of(agent.name, v) for v in page.items], page.next_cursor)

    @get(
        "/sessions/{session_id:str}",
        summary="A session with its merged state and (recent) events",
        description="`ETag` carries the session's version; send it back as `If-Match` when appending. "
        "Without `numRecentEvents` the whole history is streamed as it is read.",
        responses={
            200: ResponseSpec(AgentSessionResponse, description="The session.", generate_examples=False),
            **errors(400, 404),
        },
    )
    async def read(
        self,
        session_id: SessionId,
        agent: Agent,
        user_id: UserId,
        num_recent_events: Annotated[
            int | None, QueryParameter(name="numRecentEvents", description="Only the newest N events; 0: none.")
        ] = None,
        after_timestamp: Annotated[
            int | None, QueryParameter(name="afterTimestamp", description="Only events after this epoch ms.")
        ] = None,
    ) -> Response[Any]:
        if num_recent_events is None:  # the whole history: streamed as it is read
            view, batches = await agent.whole_session(user_id, session_id, after_timestamp=after_timestamp)
            # Every field but the events, in declared order: the events go where the empty list is.
            # State comes before them, so the last `"events":[]` is the field, whatever the state holds.
            head, _, tail = msgspec.json.encode(AgentSessionResponse.of(agent.name, view)).rpartition(b'"events":[]')
            stream = await json_array(batches, lambda e: (record_json(e),), head=head + b'"events":[', tail=b"]" + tail)
            stream.headers.update(etag(view.session.version))
            return stream
        view = await agent.get_session(
            user_id, session_id, num_recent_events=num_recent_events, after_timestamp=after_timestamp
        )
        return Response(AgentSessionResponse.of(agent.name, view), headers=etag(view.session.version))

    @delete(
        "/sessions/{session_id:str}",
        summary="Delete a session and its events",
        status_code=204,
        responses=errors(400, 404),
    )
    async def remove(self, session_id: SessionId, agent: Agent, user_id: UserId) -> None:
        await agent.delete_session(user_id, session_id)

    @post(
        "/sessions/{session_id:str}/events",
        summary="Append an event (state delta applied in the same transaction)",
        description="201 with the stored event and its sequence; 200 with the stored copy when the event id was "
        "already stored. With `If-Match`, a stale version is refused (412) and nothing is written.",
        status_code=201,
        responses={
            201: ResponseSpec(EventResponse, description="The stored event.", generate_examples=False),
            **errors(400, 404, 412, 413),
        },
    )
    async def append(
        self,
        session_id: SessionId,
        data: JSONBody[EventCreate],
        request: Request[Any, Any, Any],
        agent: Agent,
        user_id: UserId,
        if_match: Annotated[str | None, HeaderParameter(name="If-Match")] = None,
    ) -> Response[dict[str, Any]]:
        raw = msgspec.json.decode(await request.body())
        body = raw if isinstance(raw, dict) else {}  # the service keeps the event's own fields out of it
        timestamp = None if data.timestamp is None else round(data.timestamp)
        appended = await agent.append_event(
            user_id,
            session_id,
            EventInput(data.invocation_id, data.author, body, id=data.id, timestamp=timestamp),
            expected_version=expected_version(if_match),
        )
        return Response(
            event_json(appended.event), status_code=201 if appended.created else 200, headers=etag(appended.version)
        )

    @get(
        "/sessions/{session_id:str}/events",
        summary="A session's events a page at a time, by sequence",
        responses=errors(400, 404),
    )
    async def events(
        self,
        session_id: SessionId,
        agent: Agent,
        user_id: UserId,
        after_sequence: Annotated[int, QueryParameter(name="afterSequence", ge=0)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> EventList:
        page = await agent.list_events(user_id, session_id, after_sequence=after_sequence, limit=limit)
        more = page[-1].sequence if len(page) == limit else None
        return EventList([record_json(e) for e in page], more)

    @get(
        "/users/{user:str}/state",
        summary="A user's state of this agent (the `user:` scope), without a session",
        description="For an agent service (`agents` or `agent:<name>`): what ADK's `get_user_state` reads. "
        "Keys come without their `user:` prefix; a user with none stored has `{}`.",
        responses=errors(404, 422),
    )
    async def user_state(self, agent: Agent, user: Annotated[str, PathParameter(description="The user.")]) -> UserState:
        return UserState(user, await agent.user_state(check_id("user", user)))

    @post(
        "/runs",
        summary="Start a run: PERSISTENT continues the session, RUN_BASED gets a session of its own",
        status_code=201,
        responses=errors(400, 404, 409),
    )
    async def start_run(self, data: JSONBody[RunCreate], agent: Agent, user_id: UserId) -> RunResponse:
        behavior = Behavior(data.behavior) if data.behavior else None
        return RunResponse.of(await agent.start_run(user_id, data.session_id, behavior))

    @post(
        "/runs/{run_id:str}/end",
        summary="End a run; a RUN_BASED run's session is deleted",
        status_code=200,
        responses=errors(400, 404),
    )
    async def end_run(self, run_id: Annotated[str, PathParameter()], agent: Agent, user_id: UserId) -> RunResponse:
        return RunResponse.of(await agent.end_run(user_id, run_id))
