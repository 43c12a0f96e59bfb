"""The incumbent gateway's architecture, as a baseline for benchmarks/chat_loop.py. Not shipped.

FastAPI + synchronous SQLAlchemy ORM, written the way the gateway Session Store replaces is
written (../shared/reference/incumbents.md): `async def` handlers that call a synchronous Session
(the driver blocks the event loop), a session per request from a generator dependency, pool size 10
+ overflow 20 with pre-ping, upsert of a task by query-then-insert-or-update, offset pagination with
a COUNT, the whole history unpaginated. Same three routes and wire format as the chat loop uses
(X-User-Id identifies the user). It runs in the baselines' own virtualenv (`make bench-baselines-env`):

    .venv-baselines/bin/python benchmarks/incumbent_gateway.py DATABASE_URL PORT
"""

# ruff: noqa: B008  (Depends() in defaults is how the incumbent, and FastAPI's docs, write it)
from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from typing import Any

import uvicorn
from fastapi import Depends, FastAPI, Header, HTTPException, Query
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel
from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class SessionRow(Base):
    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String, primary_key=True)
    name: Mapped[str | None] = mapped_column(String)
    user_id: Mapped[str] = mapped_column(String, nullable=False)
    agent_id: Mapped[str | None] = mapped_column(String)
    project_id: Mapped[str | None] = mapped_column(String)
    created_time: Mapped[int] = mapped_column(BigInteger)
    updated_time: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (Index("ix_sessions_user_updated", "user_id", updated_time.desc()),)


class ChatTaskRow(Base):
    __tablename__ = "chat_tasks"
    id: Mapped[str] = mapped_column(String, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String)
    user_message: Mapped[str | None] = mapped_column(Text)
    message_bubbles: Mapped[str] = mapped_column(Text, nullable=False)
    task_metadata: Mapped[str | None] = mapped_column(Text)
    created_time: Mapped[int] = mapped_column(BigInteger)
    updated_time: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (Index("ix_chat_tasks_session_user_created", "session_id", "user_id", "created_time"),)


class Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class TaskSave(Camel):
    task_id: str
    user_message: str | None = None
    message_bubbles: str
    task_metadata: str | None = None


class TaskResponse(Camel):
    task_id: str
    session_id: str
    user_message: str | None
    message_bubbles: str
    task_metadata: str | None
    created_time: int
    updated_time: int


class SessionResponse(Camel):
    id: str
    user_id: str
    name: str | None
    agent_id: str | None
    project_id: str | None
    created_time: int
    updated_time: int


def now_ms() -> int:
    return int(time.time() * 1000)


def task_response(row: ChatTaskRow) -> dict[str, Any]:
    return TaskResponse(
        task_id=row.id,
        session_id=row.session_id,
        user_message=row.user_message,
        message_bubbles=row.message_bubbles,
        task_metadata=row.task_metadata,
        created_time=row.created_time,
        updated_time=row.updated_time,
    ).model_dump(by_alias=True)


def build(database_url: str) -> FastAPI:
    engine = create_engine(
        database_url.replace("postgresql://", "postgresql+psycopg://", 1),
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        pool_recycle=1800,
    )
    Base.metadata.create_all(engine)
    session_factory = sessionmaker(bind=engine, autoflush=False)
    app = FastAPI()

    def get_db() -> Iterator[Session]:
        db = session_factory()
        try:
            yield db
        finally:
            db.close()

    @app.post("/api/v1/sessions")
    async def create_session(
        body: dict[str, Any], x_user_id: str = Header(), db: Session = Depends(get_db)
    ) -> dict[str, Any]:
        # The gateway makes a session when the UI sends a conversation's first message.
        if db.get(SessionRow, body["id"]) is None:
            db.add(SessionRow(id=body["id"], user_id=x_user_id, created_time=now_ms(), updated_time=now_ms()))
            db.commit()
        return {"data": {"id": body["id"]}}

    @app.post("/api/v1/sessions/{session_id}/chat-tasks")
    async def save_task(
        session_id: str, body: TaskSave, x_user_id: str = Header(), db: Session = Depends(get_db)
    ) -> dict[str, Any]:
        json.loads(body.message_bubbles)
        session = db.get(SessionRow, session_id)
        if session is None:
            session = SessionRow(id=session_id, user_id=x_user_id, created_time=now_ms(), updated_time=now_ms())
            db.add(session)
            db.flush()
        elif session.user_id != x_user_id:
            raise HTTPException(404, "Session not found")
        task = db.get(ChatTaskRow, body.task_id)
        if task is None:
            task = ChatTaskRow(id=body.task_id, session_id=session_id, user_id=x_user_id, created_time=now_ms())
            db.add(task)
        task.user_message = body.user_message
        task.message_bubbles = body.message_bubbles
        task.task_metadata = body.task_metadata
        task.updated_time = now_ms()
        session.updated_time = now_ms()
        db.commit()
        db.refresh(task)
        return task_response(task)

    @app.get("/api/v1/sessions/{session_id}/chat-tasks")
    async def history(session_id: str, x_user_id: str = Header(), db: Session = Depends(get_db)) -> dict[str, Any]:
        session = db.get(SessionRow, session_id)
        if session is None or session.user_id != x_user_id:
            raise HTTPException(404, "Session not found")
        rows = db.scalars(
            select(ChatTaskRow)
            .where(ChatTaskRow.session_id == session_id, ChatTaskRow.user_id == x_user_id)
            .order_by(ChatTaskRow.created_time)
        ).all()
        return {"tasks": [task_response(row) for row in rows]}

    @app.get("/api/v1/sessions")
    async def list_sessions(
        x_user_id: str = Header(),
        page_number: int = Query(1, alias="pageNumber", ge=1),
        page_size: int = Query(20, alias="pageSize", ge=1, le=100),
        db: Session = Depends(get_db),
    ) -> dict[str, Any]:
        count = db.scalar(select(func.count()).select_from(SessionRow).where(SessionRow.user_id == x_user_id)) or 0
        rows = db.scalars(
            select(SessionRow)
            .where(SessionRow.user_id == x_user_id)
            .order_by(SessionRow.updated_time.desc())
            .offset((page_number - 1) * page_size)
            .limit(page_size)
        ).all()
        total_pages = (count + page_size - 1) // page_size
        return {
            "data": [SessionResponse.model_validate(row).model_dump(by_alias=True) for row in rows],
            "meta": {
                "pagination": {
                    "pageNumber": page_number,
                    "count": count,
                    "pageSize": page_size,
                    "nextPage": page_number + 1 if page_number < total_pages else None,
                    "totalPages": total_pages,
                }
            },
        }

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


if __name__ == "__main__":
    url, port = sys.argv[1], int(sys.argv[2])
    uvicorn.run(build(url), host="127.0.0.1", port=port, log_level="warning", loop="uvloop", http="httptools")
