"""Session Store as a Google ADK session service: hand it to a `Runner` and the agent keeps its memory here.

    from app.adk import SessionStoreSessionService

    async with SessionStoreSessionService("postgresql://user:pass@db:5432/agents") as sessions:
        runner = Runner(agent=agent, app_name="helper", session_service=sessions)

The URL decides the transport. Embedded, in this process, on the same tables, migrations and
locking as a Session Store server: None or `memory://`, `sqlite:///path.db`, `postgresql://...`,
`mysql+pymysql://...`; each ADK `app_name` is the agent of that name. Remote, over HTTP to a running
server: `http://host:port` or `https://...`, the service acting for each user it names
(app/adk/remote.py says how it authenticates). Needs the `adk` extra (`session-store[adk]`).
"""

from app.adk.service import SessionStoreSessionService

__all__ = ["SessionStoreSessionService"]
