"""Listening: refuse what would be unsafe, bind the socket, run the app under uvicorn."""
from __future__ import annotations

import ipaddress
import socket

from ..errors import FacerecError


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def check_listen(host: str, port: int, api_key: str | None) -> None:
    """Refuse to listen beyond this machine without an API key, and impossible ports."""
    if not 0 <= port <= 65535:
        raise FacerecError(f"--port {port}: a port is between 0 and 65535")
    if not is_loopback(host) and not api_key:
        raise FacerecError(f"refusing to listen on {host} without --api-key: anyone who can reach it could "
                           f"identify faces and change the gallery (listen on 127.0.0.1, or set a key)")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or one line saying why there cannot be one."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise FacerecError(f"--host {host}: {exc.strerror}") from exc
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise FacerecError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.set_inheritable(True)
    return sock


def serve(service_args: dict, host: str = "127.0.0.1", port: int = 8000, access_log: bool = True,
          on_ready=None) -> None:
    """Check, bind, load the service (models, gallery, cameras) and serve until interrupted.
    on_ready(url) is called once the socket is bound and the models loaded."""
    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError as exc:
        raise FacerecError(f"facerec serve needs FastAPI and uvicorn ({exc.name} is missing): "
                           f"pip install 'facerec[serve]'") from exc
    from .app import create_app
    from .service import Service

    check_listen(host, port, service_args.get("api_key"))
    sock = bind(host, port)  # a taken port is said before models load
    try:
        service = Service(**service_args)
    except BaseException:
        sock.close()
        raise
    # Without a key the service is for this machine alone: answer only to its loopback names, so a
    # web page whose site name is made to point at 127.0.0.1 (DNS rebinding) cannot reach it.
    loopback_names = None if service_args.get("api_key") else ["localhost", "127.0.0.1", "::1", host.strip("[]")]
    app = create_app(service, allowed_hosts=loopback_names)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    if on_ready:
        on_ready(f"http://{shown}:{bound}")
    from .slow_clients import HeadersInTime

    config = uvicorn.Config(app, log_level="info", access_log=access_log, timeout_graceful_shutdown=3,
                            proxy_headers=False, server_header=False, http=HeadersInTime)

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame):
            # Live streams never end by themselves: end them, or stopping waits for them to time out.
            service.bus.end_streams()
            super().handle_exit(sig, frame)

    try:
        Server(config).run(sockets=[sock])  # ends in KeyboardInterrupt on Ctrl-C (uvicorn re-raises it)
    finally:
        if service.bus.log:  # closed by now (the app's lifespan): a log that lost events outranks Ctrl-C
            service.bus.log.check_written()
