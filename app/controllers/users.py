"""A user's own data as a whole: `DELETE /api/v1/users/me/data` removes everything of the caller's."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete

from app.dependencies import UserId
from app.examples import answer
from app.guards import identified
from app.openapi import errors
from app.problems import MEDIA_TYPE
from app.stores import Stores
from domain.errors import StoreUnavailable


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


async def _erase(erase: Any, user_id: str) -> StoreReceipt:
    try:
        return StoreReceipt("erased", await erase(user_id))
    except StoreUnavailable:
        return StoreReceipt("unreachable")
