"""Memory: the server's resident set after 100,000 requests of the chat loop, and whether it still
grows in the second half. Run: `python -m benchmarks.memory [--requests N]`."""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from pathlib import Path

from benchmarks.http_client import HttpConnection
from benchmarks.support import running_server, throwaway_postgres

BUBBLES = json.dumps([{"type": "agent", "text": "a reply of some length " * 4}])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def chat(base: str, requests: int, clients: int = 16) -> None:
    per_client = requests // clients // 3

    async def client_loop() -> None:
        user = f"mem-{uuid.uuid4().hex[:8]}"
        async with HttpConnection(base, {"X-User-Id": user}) as client:
            for turn in range(per_client):
                session = f"{user}-s{turn // 20}"
                if turn % 20 == 0:
                    await client.request("POST", "/api/v1/sessions", {"id": session})
                body = {"taskId": f"{session}-t{turn}", "messageBubbles": BUBBLES}
                await client.request("POST", f"/api/v1/sessions/{session}/chat-tasks", body)
                await client.request("GET", f"/api/v1/sessions/{session}/chat-tasks")
                await client.request("GET", "/api/v1/sessions?pageSize=20")

    await asyncio.gather(*(client_loop() for _ in range(clients)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100_000)
    args = parser.parse_args()
    print("Memory benchmark: PostgreSQL, one `session-store serve` process, 16 clients doing the chat loop")
    with throwaway_postgres() as url, running_server(url) as base:
        start = rss_mb(base.pid)
        asyncio.run(chat(base, args.requests // 2))
        half = rss_mb(base.pid)
        asyncio.run(chat(base, args.requests // 2))
        end = rss_mb(base.pid)
    print(
        f"  RSS at start {start:.1f} MB, after {args.requests // 2:,} requests {half:.1f} MB, "
        f"after {args.requests:,} {end:.1f} MB"
    )
    print(f"  growth in the second half: {end - half:+.1f} MB (target: none); under 200 MB: {end < 200}")


if __name__ == "__main__":
    main()
