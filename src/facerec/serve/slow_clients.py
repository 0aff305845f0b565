"""Connections that send their request headers too slowly are closed (a slowloris: hundreds of
connections each trickling a header byte now and then, held open for ever, since uvicorn times
out only idle kept-alive connections).  A request's body is bounded elsewhere (app._BodyLimit)."""
from __future__ import annotations

from uvicorn.protocols.http.h11_impl import H11Protocol

HEADERS_SECONDS = 10.0  # from a connection's first byte (or its last response) to a whole request head


class HeadersInTime(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection whose next request head has not come
    whole within headers_seconds."""

    headers_seconds = HEADERS_SECONDS

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._head_deadline = None
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.cycle is not self._cycle_waited and self._head_deadline is not None:
            self._head_deadline.cancel()  # a new request's head came whole
            self._head_deadline = None

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()  # the next request on this connection has its own time

    def _arm(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
        self._cycle_waited = self.cycle
        self._head_deadline = self.loop.call_later(self.headers_seconds, self._too_slow)

    def _too_slow(self) -> None:
        self._head_deadline = None
        if self.cycle is self._cycle_waited and not self.transport.is_closing():
            self.transport.close()
