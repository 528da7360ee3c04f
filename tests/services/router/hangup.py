"""An upstream that reads each request and hangs up without answering: a broken model server.

Run with ``python -m tests.services.router.hangup PORT``. ``GET /stats`` answers how many
requests it hung up on, so a test can tell whether the router sent a request again.
"""

from __future__ import annotations

import asyncio
import json
import sys

hung_up = {"requests": 0}


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        writer.close()
        return
    if head.startswith(b"GET /stats "):
        body = json.dumps(hung_up).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()
    else:
        hung_up["requests"] += 1
    writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(_serve, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
