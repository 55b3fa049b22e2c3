"""A loopback TCP proxy that can cut or stall the link it carries, as a network fault would.

- cut: every open connection is aborted and new ones are reset right after the accept, as a
  service that went away (the client sees a connection error at once);
- stall: connections are accepted, but nothing is forwarded either way (a black hole; the
  client waits on its own timeouts); when the stall ends what was held flows on, as TCP
  retransmits it after a partition heals;
- delay: each chunk on its way back to the client waits this long (a slow service).

One proxy per client process (so a fault can be aimed at one of them and traffic can be told
apart); `ProxyGroup` puts the fault on all proxies in front of one service at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

_CHUNK = 65536
_CONNECT_TIMEOUT = 5.0


class Mode(StrEnum):
    FLOWING = "flowing"
    CUT = "cut"
    STALLED = "stalled"


@dataclass
class ProxyStats:
    accepted: int = 0
    reset_on_accept: int = 0
    aborted_by_cut: int = 0
    upstream_failures: int = 0
    client_chunks: int = 0  # chunks forwarded client -> service
    bytes_up: int = 0
    bytes_down: int = 0


@dataclass(eq=False)
class _Link:
    client: asyncio.StreamWriter
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    upstream: asyncio.StreamWriter | None = None

    def abort(self) -> None:
        for writer in (self.client, self.upstream):
            if writer is not None:
                _reset(writer)
        for task in self.tasks:
            task.cancel()


ChunkHook = Callable[[bytes], None]


class TcpProxy:
    """`127.0.0.1:<port>` -> `upstream_host:upstream_port`; start() picks a free port."""

    def __init__(self, name: str, upstream_host: str, upstream_port: int) -> None:
        self.name = name
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.port = 0
        self.mode = Mode.FLOWING
        self.delay_s = 0.0
        self.stats = ProxyStats()
        # Called (synchronously) once a client -> service chunk has been written on: lets a
        # scenario act at the exact moment a request left for the service.
        self.on_client_chunk: ChunkHook | None = None
        # Called (synchronously) when a service -> client chunk arrived, before it is passed
        # on: lets a scenario act once the service has done the work but before the client
        # heard of it.
        self.on_service_chunk: ChunkHook | None = None
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._changed = asyncio.Event()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for link in list(self._links):
            link.abort()
        self._links.clear()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2)
        self._server = None

    # ----- faults -----------------------------------------------------------------------

    def cut(self) -> None:
        self.mode = Mode.CUT
        self._flowing.clear()
        for link in list(self._links):
            link.abort()
            self.stats.aborted_by_cut += 1
        self._links.clear()
        self._notify()

    def stall(self) -> None:
        self.mode = Mode.STALLED
        self._flowing.clear()
        self._notify()

    def heal(self) -> None:
        self.mode = Mode.FLOWING
        self._flowing.set()
        self._notify()

    async def wait_client_chunk(self, after: int, timeout: float) -> bool:  # noqa: ASYNC109
        """True once more than `after` client chunks went through (within `timeout`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.stats.client_chunks <= after:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)
        return True

    # ----- forwarding -------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.accepted += 1
        if self.mode is Mode.CUT:
            self.stats.reset_on_accept += 1
            _reset(writer)
            return
        link = _Link(writer)
        self._links.add(link)
        current = asyncio.current_task()
        if current is not None:
            link.tasks.add(current)
        try:
            await self._flowing.wait()  # a stall holds new connections too
            try:
                up_reader, up_writer = await asyncio.wait_for(
                    asyncio.open_connection(self.upstream_host, self.upstream_port),
                    _CONNECT_TIMEOUT,
                )
            except (OSError, TimeoutError):
                self.stats.upstream_failures += 1
                _reset(writer)
                return
            link.upstream = up_writer
            up = asyncio.create_task(self._pump(reader, up_writer, upward=True))
            down = asyncio.create_task(self._pump(up_reader, writer, upward=False))
            link.tasks |= {up, down}
            await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
            for task in (up, down):
                task.cancel()
            await asyncio.gather(up, down, return_exceptions=True)
            for end in (writer, up_writer):
                with contextlib.suppress(Exception):
                    end.close()
        except asyncio.CancelledError:
            pass  # aborted by a cut or by stop()
        finally:
            self._links.discard(link)

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, upward: bool
    ) -> None:
        try:
            while True:
                data = await reader.read(_CHUNK)
                if not data:
                    with contextlib.suppress(OSError):
                        if writer.can_write_eof():
                            writer.write_eof()
                    return
                await self._flowing.wait()
                if not upward and self.delay_s > 0:
                    await asyncio.sleep(self.delay_s)
                    await self._flowing.wait()
                if not upward and self.on_service_chunk is not None:
                    self.on_service_chunk(data)
                writer.write(data)
                await writer.drain()
                if upward:
                    self.stats.client_chunks += 1
                    self.stats.bytes_up += len(data)
                    if self.on_client_chunk is not None:
                        self.on_client_chunk(data)
                    self._notify()
                else:
                    self.stats.bytes_down += len(data)
        except (OSError, ConnectionError):
            return


class ProxyGroup:
    """All proxies in front of one service: a fault on the group is a fault of the service."""

    def __init__(self, service: str, proxies: Iterable[TcpProxy] = ()) -> None:
        self.service = service
        self.proxies: list[TcpProxy] = list(proxies)

    def add(self, proxy: TcpProxy) -> None:
        self.proxies.append(proxy)

    def cut(self) -> None:
        for proxy in self.proxies:
            proxy.cut()

    def stall(self) -> None:
        for proxy in self.proxies:
            proxy.stall()

    def heal(self) -> None:
        for proxy in self.proxies:
            proxy.heal()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (SO_LINGER 0): the peer sees the connection fail, not end."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(Exception):
        writer.transport.abort()
