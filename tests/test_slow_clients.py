"""A connection that sends its request headers too slowly is closed (issue 23, finding 6: 500
slowloris connections stayed open); a client that sends them at once is served as before."""
import socket
import threading
import time

import pytest

pytest.importorskip("uvicorn")


async def _app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _response(conn) -> bytes:
    data = b""
    while not data.endswith(b"\r\n\r\nok"):
        part = conn.recv(200)
        if not part:
            break
        data += part
    return data


def test_slow_headers_are_cut_and_a_prompt_client_is_served():
    import uvicorn

    from facerec.serve.slow_clients import HeadersInTime

    class Quick(HeadersInTime):
        headers_seconds = 0.5

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    server = uvicorn.Server(uvicorn.Config(_app, log_level="warning", http=Quick, timeout_keep_alive=30))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    port = sock.getsockname()[1]
    try:
        slow = socket.create_connection(("127.0.0.1", port), timeout=20)
        slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the blank line that ends the head
        t = time.monotonic()
        assert slow.recv(100) == b""  # closed by the server ...
        assert time.monotonic() - t < 15  # ... long before this client's own time-out
        prompt = socket.create_connection(("127.0.0.1", port), timeout=20)
        for _ in range(2):  # kept alive: a second request on the connection is served too
            prompt.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _response(prompt).startswith(b"HTTP/1.1 200")
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
