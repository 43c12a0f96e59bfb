"""The calls the agent-mesh WebUI makes over one chat's life, in its order and with its headers,
against a real `session-store serve` process (../shared/reference/webui-gateway-contract.md, R1-R13)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.databases import fresh_database
from tests.e2e.server import Server

# What the UI's fetch wrapper sends with no token stored (FE lib/api/client.ts).
UI_HEADERS = {"Authorization": "Bearer null", "X-User-Id": "ana"}


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    with fresh_database("postgres") if request.param == "postgres" else nullcontext(None) as url:
        database = url or f"sqlite:///{tmp_path / 'gateway.db'}"
        config = tmp_path / "c.yaml"
        config.write_text(f'session_service:\n  type: sql\n  database_url: "{database}"\nagents: []\n')
        running = Server(config, tmp_path).start().wait_ready()
        try:
            yield running
        finally:
            running.stop()


def bubble(kind: str, text: str) -> dict[str, Any]:
    return {"id": f"msg-{uuid.uuid4()}", "type": kind, "text": text, "parts": [{"kind": "text", "text": text}]}


def ok(response: httpx.Response) -> Any:
    assert 200 <= response.status_code < 300, (response.request.method, response.request.url.path, response.text)
    return response.json() if response.content else None


def test_a_chat_through_the_ui_from_first_message_to_delete(server: Server) -> None:
    with httpx.Client(base_url=f"{server.url}/api/v1", headers=UI_HEADERS) as ui:
        # The side bar (R1) and the sessions panel (R2) of a new user.
        side_bar = ok(ui.get("/sessions", params={"pageNumber": 1, "pageSize": 15}))
        assert side_bar["data"] == [] and side_bar["meta"]["pagination"]["nextPage"] is None
        # First message: the gateway makes the session (standing in for it: POST /sessions), then
        # the UI saves the task as pending (R7) and again when the answer is complete.
        session_id = f"web-session-{uuid.uuid4().hex}"
        ok(ui.post("/sessions", json={"id": session_id, "agentId": "OrchestratorAgent"}))
        task_id = f"task-{uuid.uuid4().hex}"
        question = bubble("user", "How warm is Lisbon in May?")
        pending = {"schema_version": 1, "status": "pending", "agent_name": "OrchestratorAgent"}
        body = {
            "taskId": task_id,
            "userMessage": question["text"],
            "messageBubbles": json.dumps([question]),
            "taskMetadata": json.dumps(pending),
        }
        ok(ui.post(f"/sessions/{session_id}/chat-tasks", json=body))
        answer = bubble("agent", "Around 22°C «artifact_return:forecast.md»")
        completed = {**pending, "status": "completed"}
        final = {**body, "messageBubbles": json.dumps([question, answer]), "taskMetadata": json.dumps(completed)}
        ok(ui.post(f"/sessions/{session_id}/chat-tasks", json=final))
        # The first answer names the chat (R9), and the user looks at it (R12).
        assert ok(ui.patch(f"/sessions/{session_id}", json={"name": "  Lisbon weather  "}))["name"] == "Lisbon weather"
        viewed = ok(ui.post(f"/sessions/{session_id}/viewed", json={}))["lastViewedAt"]
        # Thumbs down with a comment (R11).
        feedback = {"taskId": task_id, "sessionId": session_id, "feedbackType": "down", "feedbackText": "too vague"}
        assert ok(ui.post("/feedback", json=feedback)) == {"status": "feedback received"}

    # Reload: a new page load, the same user. The session (R6), its history (R8), the list (R3).
    with httpx.Client(base_url=f"{server.url}/api/v1", headers=UI_HEADERS) as ui:
        session = ok(ui.get(f"/sessions/{session_id}"))["data"]
        assert (session["name"], session["userId"], session["lastViewedAt"]) == ("Lisbon weather", "ana", viewed)
        assert not session["updatedTime"] > (session["lastViewedAt"] or session["createdTime"])  # seen: no dot
        tasks = ok(ui.get(f"/sessions/{session_id}/chat-tasks"))["tasks"]
        assert [t["taskId"] for t in tasks] == [task_id]
        restored = json.loads(tasks[0]["messageBubbles"])
        assert restored == [question, answer]
        metadata = json.loads(tasks[0]["taskMetadata"])
        assert metadata["status"] == "completed" and metadata["feedback"] == {
            "type": "down",
            "text": "too vague",
            "submitted": True,
        }
        listed = ok(ui.get("/sessions", params={"pageNumber": 1, "pageSize": 20, "source": "chat"}))
        assert [s["id"] for s in listed["data"]] == [session_id]

        # Into a project (R13); the project's view (R4) and a search inside it (R5).
        assert ok(ui.patch(f"/sessions/{session_id}/project", json={"projectId": "proj-1"}))["projectId"] == "proj-1"
        in_project = ok(ui.get("/sessions", params={"project_id": "proj-1", "pageNumber": 1, "pageSize": 100}))
        assert [s["id"] for s in in_project["data"]] == [session_id]
        search = {"query": "lisbon", "pageNumber": 1, "pageSize": 20}
        assert [s["id"] for s in ok(ui.get("/sessions/search", params={**search, "projectId": "proj-1"}))["data"]] == [
            session_id
        ]
        assert ok(ui.get("/sessions/search", params={**search, "projectId": "proj-2"}))["data"] == []

        # Delete (R10): 204, empty; gone from the list. A save that arrives late does not bring it back.
        deleted = ui.delete(f"/sessions/{session_id}")
        assert deleted.status_code == 204 and deleted.content == b""
        assert ok(ui.get("/sessions", params={"pageNumber": 1, "pageSize": 15}))["data"] == []
        late = ui.post(f"/sessions/{session_id}/chat-tasks", json={**final, "taskId": f"task-{uuid.uuid4().hex}"})
        assert late.status_code == 422 and late.json()["detail"]
        assert ui.get(f"/sessions/{session_id}").status_code == 404
        assert ok(ui.get("/feedback")) == []
