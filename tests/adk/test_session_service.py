"""SessionStoreSessionService against ADK's session-service contract, one test per behaviour, on
memory, SQLite, PostgreSQL and MariaDB, with ADK's own InMemorySessionService run beside as the
reference: a test that ADK's service fails is a test of something ADK does not promise."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from google.adk.errors import StaleSessionError
from google.adk.errors.already_exists_error import AlreadyExistsError
from google.adk.errors.session_not_found_error import SessionNotFoundError
from google.adk.events.event import Event
from google.adk.events.event_actions import EventActions, EventCompaction
from google.adk.sessions.base_session_service import BaseSessionService, GetSessionConfig
from google.adk.sessions.in_memory_session_service import InMemorySessionService
from google.genai import types

from app.adk import SessionStoreSessionService
from tests.conftest import empty_tables, migrated_url
from tests.databases import fresh_database
from tests.e2e.server import Server, agents_config

AGENT_TABLES = ("agent_events", "agent_sessions", "agent_app_states", "agent_user_states", "agent_runs")
EMBEDDED = ["memory", "sqlite", "postgres", "mysql"]
OURS = [*EMBEDDED, "remote"]
EVERY = ["adk-reference", *OURS]
APPS = ("app", "other", "elsewhere")
PROXY_TOKEN = "the-adk-services-proxy-token"


@pytest.fixture(scope="module")
def remote_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A `session-store serve` process with the agents these tests name, all on one PostgreSQL
    database, behind trusted-header auth (the service acting for each user as a proxy would)."""
    directory = tmp_path_factory.mktemp("adk-remote")
    with fresh_database("postgres") as url:
        config = agents_config(
            directory,
            {app: url for app in APPS},
            f"  mode: trusted-header\n  trusted_header: {{token: {PROXY_TOKEN}}}\n",
        )
        server = Server(config, directory).start().wait_ready()
        try:
            yield server.url, url
        finally:
            server.stop()


@pytest.fixture
async def service(request: pytest.FixtureRequest) -> AsyncIterator[BaseSessionService]:
    kind: str = request.param
    if kind == "adk-reference":
        yield InMemorySessionService()
        return
    if kind == "remote":
        base, url = request.getfixturevalue("remote_server")
        ours = SessionStoreSessionService(base, proxy_token=PROXY_TOKEN)
    else:
        url = None if kind == "memory" else migrated_url(request, kind, "agent")
        ours = SessionStoreSessionService(url)
    try:
        yield ours
    finally:
        await ours.close()
        if url is not None:
            empty_tables(url, *AGENT_TABLES)


def on(*kinds: str) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("service", kinds, indirect=True)


def text_event(text: str, author: str = "user", **fields: Any) -> Event:
    return Event(
        author=author,
        invocation_id="inv-1",
        content=types.Content(role=author, parts=[types.Part(text=text)]),
        **fields,
    )


def delta_event(delta: dict[str, Any], **fields: Any) -> Event:
    return Event(author="agent", invocation_id="inv-1", actions=EventActions(state_delta=delta), **fields)


# Sessions -----------------------------------------------------------------------------------------


@on(*EVERY)
async def test_a_created_session_reads_back_as_created(service: BaseSessionService) -> None:
    made = await service.create_session(app_name="app", user_id="ana", state={"topic": "trip"}, session_id="s1")
    assert (made.id, made.app_name, made.user_id, made.state, made.events) == (
        "s1",
        "app",
        "ana",
        {"topic": "trip"},
        [],
    )
    read = await service.get_session(app_name="app", user_id="ana", session_id="s1")
    assert read is not None and (read.id, read.state, read.events) == ("s1", {"topic": "trip"}, [])
    assert await service.get_session(app_name="app", user_id="bob", session_id="s1") is None
    assert await service.get_session(app_name="other", user_id="ana", session_id="s1") is None


@on(*EVERY)
async def test_a_taken_id_is_refused_and_a_blank_one_generated(service: BaseSessionService) -> None:
    await service.create_session(app_name="app", user_id="ana", session_id="s1")
    with pytest.raises(AlreadyExistsError):
        await service.create_session(app_name="app", user_id="ana", session_id="s1")
    generated = await service.create_session(app_name="app", user_id="ana")
    assert generated.id and generated.id != "s1"
    assert await service.get_session(app_name="app", user_id="ana", session_id=generated.id) is not None


@on(*OURS)
async def test_blank_and_padded_ids_as_adk_treats_them(service: BaseSessionService) -> None:
    blank = await service.create_session(app_name="app", user_id="ana", session_id="   ")
    assert blank.id.strip() == blank.id and blank.id
    padded = await service.create_session(app_name="app", user_id="ana", session_id="  s9  ")
    assert padded.id == "s9"


@on(*EVERY)
async def test_sessions_list_oldest_first_without_events_for_one_user_or_all(service: BaseSessionService) -> None:
    for session_id, user in (("a", "ana"), ("b", "bob"), ("c", "ana")):
        made = await service.create_session(app_name="app", user_id=user, session_id=session_id)
        await service.append_event(made, text_event(f"hello {session_id}"))
        await asyncio.sleep(0.002)
    mine = (await service.list_sessions(app_name="app", user_id="ana")).sessions
    assert [s.id for s in mine] == ["a", "c"] and all(s.events == [] for s in mine)
    assert (await service.list_sessions(app_name="elsewhere", user_id="ana")).sessions == []


@on("adk-reference", *EMBEDDED)
async def test_every_users_sessions_are_listed_in_process(service: BaseSessionService) -> None:
    for session_id, user in (("a", "ana"), ("b", "bob"), ("c", "ana")):
        made = await service.create_session(app_name="app", user_id=user, session_id=session_id)
        await service.append_event(made, text_event(f"hello {session_id}"))
        await asyncio.sleep(0.002)
    everyone = (await service.list_sessions(app_name="app")).sessions
    assert [(s.user_id, s.id) for s in everyone] == [("ana", "a"), ("bob", "b"), ("ana", "c")]


@on(*EVERY)
async def test_a_deleted_session_is_gone(service: BaseSessionService) -> None:
    await service.create_session(app_name="app", user_id="ana", session_id="s1")
    await service.delete_session(app_name="app", user_id="ana", session_id="s1")
    assert await service.get_session(app_name="app", user_id="ana", session_id="s1") is None
    await service.delete_session(app_name="app", user_id="ana", session_id="never")  # no error


# State --------------------------------------------------------------------------------------------


@on(*EVERY)
async def test_the_three_state_scopes(service: BaseSessionService) -> None:
    first = await service.create_session(
        app_name="app", user_id="ana", session_id="s1", state={"app:tone": "warm", "user:name": "Ana", "step": 1}
    )
    await service.append_event(first, delta_event({"app:tone": "dry", "user:city": "Lisbon", "step": 2}))
    second = await service.create_session(app_name="app", user_id="ana", session_id="s2")
    assert second.state == {"app:tone": "dry", "user:name": "Ana", "user:city": "Lisbon"}
    bobs = await service.create_session(app_name="app", user_id="bob", session_id="s3")
    assert bobs.state == {"app:tone": "dry"}
    reread = await service.get_session(app_name="app", user_id="ana", session_id="s1")
    assert reread is not None and reread.state == {
        "app:tone": "dry",
        "user:name": "Ana",
        "user:city": "Lisbon",
        "step": 2,
    }


@on(*EVERY)
async def test_dict_and_none_values_and_booleans_are_kept(service: BaseSessionService) -> None:
    session = await service.create_session(app_name="app", user_id="ana", session_id="s1")
    delta = {"prefs": {"units": "metric", "langs": ["pt", "en"]}, "cleared": None, "ok": True, "off": False, "n": 0}
    await service.append_event(session, delta_event(delta))
    read = await service.get_session(app_name="app", user_id="ana", session_id="s1")
    assert read is not None and read.state == delta
    assert read.state["ok"] is True and read.state["off"] is False


@on(*EVERY)
async def test_temp_state_lives_in_memory_only(service: BaseSessionService) -> None:
    session = await service.create_session(app_name="app", user_id="ana", session_id="s1")
    event = await service.append_event(session, delta_event({"temp:scratch": 42, "kept": 1}))
    assert session.state == {"temp:scratch": 42, "kept": 1}
    assert event.actions.state_delta == {"kept": 1}
    read = await service.get_session(app_name="app", user_id="ana", session_id="s1")
    assert read is not None and read.state == {"kept": 1}
    assert read.events[0].actions.state_delta == {"kept": 1}


@on(*OURS)
async def test_a_state_value_json_cannot_hold_is_kept_as_text(service: BaseSessionService) -> None:
    session = await service.create_session(app_name="app", user_id="ana", session_id="s1")
    await service.append_event(session, delta_event({"callback": print, "fine": 1}))
    assert session.state["callback"] is print
    read = await service.get_session(app_name="app", user_id="ana", session_id="s1")
    assert read is not None and read.state["fine"] == 1 and isinstance(read.state["callback"], str)


# User state ----------------------------------------------------------------------------------------


@on(*EVERY)
async def test_user_state(service: BaseSessionService) -> None:
    assert await service.get_user_state(app_name="app", user_id="ana") == {}
    session = await service.create_session(app_name="app", user_id="ana", session_id="s1", state={"user:lang": "pt"})
    await service.append_event(session, delta_event({"user:city": "Lisbon", "user:lang": "en", "plain": 1}))
    assert await service.get_user_state(app_name="app", user_id="ana") == {"lang": "en", "city": "Lisbon"}
    assert await service.get_user_state(app_name="app", user_id="bob") == {}
    assert await service.get_user_state(app_name="other", user_id="ana") == {}


# Events ------------------------------------------------------------------------------------------


@on(*EVERY)
async def test_every_field_of_an_event_comes_back(service: BaseSessionService) -> None:
    session = await service.create_session(app_name="app", user_id="ana", session_id="s1")
    picture = types.Part(inline_data=types.Blob(mime_type="image/png", data=b"\x89PNG\r\n\x1a\n\x00\xff"))
    complete = Event(
        author="helper",
        invocation_id="inv-7",
        branch="root.helper",
        content=types.Content(role="model", parts=[types.Part(text="Here it is"), picture]),
        actions=EventActions(
            state_delta={"k": "v"},
            artifact_delta={"chart.png": 2},
            transfer_to_agent="other",
            escalate=True,
            skip_summarization=True,
            requested_tool_confirmations={"call-1": {"hint": "sure?", "confirmed": False}},
            compaction=EventCompaction(
                start_timestamp=1.5,
                end_timestamp=2.25,
                compacted_content=types.Content(role="model", parts=[types.Part(text="sum")]),
            ),
        ),
        grounding_metadata=types.GroundingMetadata(web_search_queries=["lisbon weather"]),
        usage_metadata=types.GenerateContentResponseUsageMetadata(prompt_token_count=10, candidates_token_count=3),
        long_running_tool_ids={"call-9"},
        turn_complete=True,
        error_code=None,
        custom_metadata={"trace": "abc"},
    )
    plain = Event(author="user", invocation_id="")  # ADK's defaults: an empty invocation id
    for event in (text_event("hi"), complete, plain):
        await service.append_event(session, event)
    read = await service.get_session(app_name="app", user_id="ana", session_id="s1")
    assert read is not None and read.events == session.events
    assert (
        read.events[1].content is not None
        and read.events[1].content.parts[1].inline_data.data == b"\x89PNG\r\n\x1a\n\x00\xff"
    )


@on(*EVERY)
async def test_partial_events_are_not_stored(service: BaseSessionService) -> None:
    session = await service.create_session(app_name="app", user_id="ana", session_id="s1")
    await service.append_event(session, text_event("typing...", partial=True))
    read = await service.get_session(app_name="app", user_id="ana", session_id="s1")
    assert read is not None and read.events == []


@on(*EVERY)
async def test_last_update_time_is_the_last_events_time(service: BaseSessionService) -> None:
    session = await service.create_session(app_name="app", user_id="ana", session_id="s1")
    event = text_event("hi", timestamp=1_800_000_000.123456)
    await service.append_event(session, event)
    assert session.last_update_time == 1_800_000_000.123456
    read = await service.get_session(app_name="app", user_id="ana", session_id="s1")
    assert read is not None and read.last_update_time == 1_800_000_000.123456
    assert read.events[0].timestamp == 1_800_000_000.123456


@on(*EVERY)
async def test_exact_times_across_a_repeated_local_hour(service: BaseSessionService) -> None:
    # 2026-11-01 01:30 happens twice in New York; the events keep their epochs and their order.
    first, second = 1_793_511_000.250001, 1_793_514_600.750002
    session = await service.create_session(app_name="app", user_id="ana", session_id="s1")
    await service.append_event(session, text_event("before", timestamp=first))
    await service.append_event(session, text_event("after", timestamp=second))
    read = await service.get_session(app_name="app", user_id="ana", session_id="s1")
    assert read is not None and [e.timestamp for e in read.events] == [first, second]


@on(*EVERY)
async def test_get_session_config(service: BaseSessionService) -> None:
    session = await service.create_session(app_name="app", user_id="ana", session_id="s1")
    times = [1_800_000_000.0 + i + 0.5 for i in range(5)]
    for i, at in enumerate(times):
        await service.append_event(session, text_event(f"m{i}", timestamp=at))

    async def read(**config: Any) -> list[float]:
        got = await service.get_session(
            app_name="app", user_id="ana", session_id="s1", config=GetSessionConfig(**config)
        )
        assert got is not None
        return [e.timestamp for e in got.events]

    assert await read(num_recent_events=2) == times[-2:]
    assert await read(num_recent_events=0) == []
    assert await read(after_timestamp=times[2]) == times[2:]  # inclusive
    assert await read(after_timestamp=times[2] + 0.0001) == times[3:]
    assert await read(after_timestamp=times[1], num_recent_events=2) == times[-2:]
    with pytest.raises(ValueError):
        GetSessionConfig(num_recent_events=-1)


# Writers ------------------------------------------------------------------------------------------


@on(*OURS)
async def test_a_stale_writer_is_refused(service: BaseSessionService) -> None:
    await service.create_session(app_name="app", user_id="ana", session_id="s1")
    one = await service.get_session(app_name="app", user_id="ana", session_id="s1")
    other = await service.get_session(app_name="app", user_id="ana", session_id="s1")
    assert one is not None and other is not None
    await service.append_event(one, text_event("first"))
    await service.append_event(one, text_event("second"))  # its own writes keep it current
    with pytest.raises(StaleSessionError):
        await service.append_event(other, text_event("stale"))
    read = await service.get_session(app_name="app", user_id="ana", session_id="s1")
    assert read is not None and [e.content.parts[0].text for e in read.events if e.content and e.content.parts] == [
        "first",
        "second",
    ]


@on(*OURS)
async def test_of_two_concurrent_stale_writers_one_wins(service: BaseSessionService) -> None:
    await service.create_session(app_name="app", user_id="ana", session_id="s1")
    copies = [await service.get_session(app_name="app", user_id="ana", session_id="s1") for _ in range(2)]
    results = await asyncio.gather(
        *(service.append_event(copy, text_event(f"w{i}")) for i, copy in enumerate(copies) if copy is not None),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Event) for r in results) == 1
    assert sum(isinstance(r, StaleSessionError) for r in results) == 1
    read = await service.get_session(app_name="app", user_id="ana", session_id="s1")
    assert read is not None and len(read.events) == 1


@on(*OURS)
async def test_appending_to_a_deleted_session_is_refused(service: BaseSessionService) -> None:
    session = await service.create_session(app_name="app", user_id="ana", session_id="s1")
    await service.delete_session(app_name="app", user_id="ana", session_id="s1")
    with pytest.raises(SessionNotFoundError):
        await service.append_event(session, text_event("late"))


@on(*OURS)
async def test_many_apps_on_one_database(service: BaseSessionService) -> None:
    for app_name in APPS:
        session = await service.create_session(app_name=app_name, user_id="ana", session_id="s1")
        await service.append_event(session, delta_event({"app:who": app_name}))
    for app_name in APPS:
        read = await service.get_session(app_name=app_name, user_id="ana", session_id="s1")
        assert read is not None and read.state == {"app:who": app_name}
