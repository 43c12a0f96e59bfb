"""The library entry point, as an agent that embeds Session Store uses it."""

from __future__ import annotations

from pathlib import Path

from app.embedded import EventInput, open_agent


async def test_an_embedded_agent_remembers_across_opens(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'helper.db'}"
    async with open_agent("helper", url) as agent:
        await agent.create_session("alice", "s1", {"user:name": "Ana"})
        await agent.append_event("alice", "s1", EventInput("inv-1", "user", {"content": "hi"}))
    async with open_agent("helper", url) as agent:
        view = await agent.get_session("alice", "s1")
    assert view.state == {"user:name": "Ana"} and [e.body["content"] for e in view.events] == ["hi"]


async def test_without_a_url_the_agent_lives_in_memory() -> None:
    async with open_agent("scratch") as agent:
        await agent.create_session("alice", "s1")
        assert (await agent.get_session("alice", "s1")).session.version == 1
