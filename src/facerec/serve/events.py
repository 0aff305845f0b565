"""Where appearances go: the recent list, the events log, the live stream and the webhook.

publish() is called from camera threads and never waits on anything slow: the log file is
written by a thread of its own, the webhook by another (retrying with back-off), and each
live-stream subscriber has a bounded queue on the server's event loop.  A subscriber that falls
too far behind is dropped (its browser reconnects and catches up from the recent list by the
last event id it saw, as Server-Sent Events do); a webhook that stays down loses the oldest
undelivered events beyond ``webhook_queue``, counted in /healthz.
"""
from __future__ import annotations

import asyncio
import collections
import json
import threading
import time
import urllib.error

from ..errors import FacerecError
from ..video.appearances import EventsLog


class Webhook:
    """POSTs each event as JSON to a URL from a thread of its own, in order, retrying failures
    (connection errors, time-outs, 5xx, 429) after 0.5, 1, 2, 4, 8 s before giving that event
    up.  The queue is bounded: past ``capacity`` waiting events the oldest is dropped."""

    def __init__(self, url: str, capacity: int = 1000, attempts: int = 6, first_delay: float = 0.5,
                 timeout: float = 5.0):
        if not url.startswith(("http://", "https://")):
            raise FacerecError(f"--webhook {url}: give an http:// or https:// address")
        self.url, self.attempts, self.first_delay, self.timeout = url, attempts, first_delay, timeout
        self._q: collections.deque = collections.deque(maxlen=capacity)
        self._cv = threading.Condition()
        self._stop = threading.Event()
        self.delivered = self.failed = self.dropped = self.retries = 0
        self.last_error: str | None = None
        self._thread = threading.Thread(target=self._run, name="webhook", daemon=True)
        self._thread.start()

    def put(self, event: dict) -> None:
        with self._cv:
            if len(self._q) == self._q.maxlen:
                self.dropped += 1  # the deque drops the oldest itself
            self._q.append(event)
            self._cv.notify()

    def status(self) -> dict:
        return {"queued": len(self._q), "delivered": self.delivered, "retries": self.retries,
                "failed": self.failed, "dropped": self.dropped, "last_error": self.last_error}

    def _post(self, event: dict) -> None:
        """One POST, over within 2 x timeout whatever the server does: a server that answers a
        byte at a time never lets a per-read time-out fire, so a timer closes the connection."""
        import http.client
        from urllib.parse import urlsplit

        body = json.dumps(event, ensure_ascii=False).encode()
        u = urlsplit(self.url)
        kind = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
        conn = kind(u.hostname, u.port, timeout=self.timeout)
        deadline = threading.Timer(2 * self.timeout, _cut, [conn])
        deadline.start()
        try:
            conn.request("POST", (u.path or "/") + (f"?{u.query}" if u.query else ""), body,
                         {"Content-Type": "application/json", "User-Agent": "facerec-serve"})
            r = conn.getresponse()
            r.read()
            if r.status >= 300:  # a redirect is not followed: it says where the webhook moved
                moved = f" (moved to {r.headers.get('Location')})" if 300 <= r.status < 400 else ""
                raise urllib.error.HTTPError(self.url, r.status, f"{r.reason}{moved}", r.headers, None)
        finally:
            deadline.cancel()
            conn.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._cv:
                while not self._q and not self._stop.is_set():
                    self._cv.wait()
                if self._stop.is_set():
                    return
                event = self._q.popleft()
            for attempt in range(self.attempts):
                try:
                    self._post(event)
                    self.delivered += 1
                    break
                except Exception as exc:  # noqa: BLE001 - any failure is retried, then counted
                    permanent = isinstance(exc, urllib.error.HTTPError) and 400 <= exc.code < 500 \
                        and exc.code not in (408, 429)
                    self.last_error = " ".join(str(exc).split())[:200]
                    if permanent or attempt == self.attempts - 1:
                        self.failed += 1
                        break
                    self.retries += 1
                    if self._stop.wait(self.first_delay * 2 ** attempt):
                        return

    def close(self) -> None:
        self._stop.set()
        with self._cv:
            self._cv.notify_all()
        self._thread.join(2)


def _cut(conn) -> None:
    """End a connection from another thread: the read blocked on it returns at once."""
    import socket

    try:
        if conn.sock is not None:
            conn.sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _Subscriber:
    def __init__(self, loop: asyncio.AbstractEventLoop, size: int):
        self.loop = loop
        self.queue: asyncio.Queue = asyncio.Queue(size)

    def offer(self, event) -> None:  # on the event loop
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:  # too far behind: end its stream; it reconnects and catches up
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)


class EventBus:
    """Numbered events in, to every place they go; recent ones kept (with face thumbnails) for
    /v1/events and for stream clients catching up."""

    def __init__(self, log_path=None, webhook: str | None = None, keep: int = 1000, thumbnails: int = 500,
                 subscriber_queue: int = 256):
        self.log = EventsLog(log_path).open() if log_path else None
        try:
            self.webhook = Webhook(webhook) if webhook else None
        except BaseException:
            if self.log:
                self.log.close()
            raise
        self._recent: collections.deque = collections.deque(maxlen=keep)
        self._thumbs: collections.OrderedDict = collections.OrderedDict()
        self._max_thumbs = thumbnails
        self._subscribers: set = set()
        self._subscriber_queue = subscriber_queue
        self._lock = threading.Lock()
        self._next_id = 1
        self.published = 0

    def publish(self, event: dict, thumbnail: bytes | None = None) -> dict:
        """Number and time the event, keep it, and send it everywhere; returns it."""
        with self._lock:
            event = {"id": self._next_id, "time": round(time.time(), 3), **event}
            self._next_id += 1
            self.published += 1
            self._recent.append(event)
            if thumbnail is not None and event.get("appearance"):
                self._thumbs[event["appearance"]] = thumbnail
                self._thumbs.move_to_end(event["appearance"])
                while len(self._thumbs) > self._max_thumbs:
                    self._thumbs.popitem(last=False)
            subscribers = list(self._subscribers)
        for s in subscribers:
            try:
                s.loop.call_soon_threadsafe(s.offer, event)
            except RuntimeError:  # its loop has closed
                self.unsubscribe(s)
        if self.log:
            self.log.put(event)
        if self.webhook:
            self.webhook.put(event)
        return event

    def recent(self, limit: int = 100, camera: str | None = None, after: int | None = None) -> list[dict]:
        with self._lock:
            events = list(self._recent)
        events = [e for e in events if (camera is None or e.get("camera") == camera)
                  and (after is None or e["id"] > after)]
        return events[-limit:] if limit else []

    def thumbnail(self, appearance: str) -> bytes | None:
        with self._lock:
            return self._thumbs.get(appearance)

    def subscribe(self, loop: asyncio.AbstractEventLoop) -> _Subscriber:
        s = _Subscriber(loop, self._subscriber_queue)
        with self._lock:
            self._subscribers.add(s)
        return s

    def unsubscribe(self, s: _Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(s)

    def end_streams(self) -> None:
        """Tell every live stream to finish (the service is stopping)."""
        with self._lock:
            subscribers = list(self._subscribers)
        for s in subscribers:
            try:
                s.loop.call_soon_threadsafe(s.offer, None)
            except RuntimeError:
                pass

    def status(self) -> dict:
        out = {"published": self.published, "stream_clients": len(self._subscribers)}
        if self.log:
            out["log"] = {"path": str(self.log.path), "written": self.log.written, "error": self.log.error}
        if self.webhook:
            out["webhook"] = self.webhook.status()
        return out

    def close(self) -> None:
        self.end_streams()
        if self.webhook:
            self.webhook.close()
        if self.log:
            self.log.close()
