"""A TCP server on loopback that accepts connections, reads what it is sent, and never answers.

The shape of a hung LLM endpoint: the connection works, the request goes out, no byte comes back.
Use it as ``async with SilentServer() as server`` and point ``LLM_BASE_URL`` at
``server.base_url``; ``server.connections`` counts the connections it accepted.
"""

from __future__ import annotations

import asyncio

__all__ = ["SilentServer"]


class SilentServer:
    """Accepts, reads and holds every connection open until closed."""

    def __init__(self) -> None:
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def __aenter__(self) -> SilentServer:
        self._server = await asyncio.start_server(self._hold, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        server, self._server = self._server, None
        for writer in self._writers:
            writer.close()
        if server is not None:
            server.close()
            await server.wait_closed()

    async def _hold(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        while await reader.read(65536):
            pass  # read the request and say nothing
