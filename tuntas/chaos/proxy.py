"""A TCP proxy on loopback that adds latency on demand: the chaos run's network delay fault.

The run's PostgreSQL listens on a port of its own and every client (the stages, the checks)
reaches it through this proxy; while :attr:`DelayProxy.delay_s` is above zero, each chunk is
held that long in either direction, as a slow or congested link would. A dropped upstream
(the server stopped) closes the client's side, as a cut link would.
"""

from __future__ import annotations

import asyncio
import contextlib


class DelayProxy:
    def __init__(self, listen_port: int, upstream_port: int, host: str = "127.0.0.1") -> None:
        self.listen_port = listen_port
        self.upstream_port = upstream_port
        self.host = host
        self.delay_s = 0.0
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> DelayProxy:
        self._server = await asyncio.start_server(self._accept, self.host, self.listen_port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.upstream_port)
        except OSError:
            writer.close()  # the server is down: the client sees its connection cut
            return
        self.connections += 1
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.ensure_future(self._pipe(source, sink, (writer, up_writer)))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        both: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
    ) -> None:
        try:
            while chunk := await source.read(65536):
                if self.delay_s > 0:
                    await asyncio.sleep(self.delay_s)
                sink.write(chunk)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for w in both:  # one side gone: the whole connection is
                with contextlib.suppress(Exception):
                    w.close()
