"""The HTTP face of the service: FastAPI routes over a Service, the web page, and the rules that
keep it safe (API key, body and pixel limits, every error a JSON body with a message).

Errors all look alike, FastAPI's own shape with the message as one string:
``{"detail": "image: not an image (unknown format)"}`` with a 4xx status (5xx only for a fault
of the service itself), including the 404s, 405s and validation errors FastAPI raises.
"""
import asyncio
import hmac
import logging
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from starlette.exceptions import HTTPException

from ..errors import FacerecError
from .routes import COOKIE
from .uploads import Refused
log = logging.getLogger("facerec.serve")


class _BodyLimit:
    """Refuses a request body over max_bytes with 413: at once when its Content-Length says so,
    else as soon as that many bytes have come (nothing more is read or kept)."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        too_large = f"request body over the {self.max_bytes / 2**20:g} MB limit"
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            response = JSONResponse({"detail": too_large if length.isdigit() else "bad Content-Length"},
                                    status_code=413 if length.isdigit() else 400, headers={"Connection": "close"})
            return await response(scope, receive, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, too_large)
            return message

        return await self.app(scope, limited, send)


class _KeyFirst:
    """With an API key, an API request without it is answered 401 from its headers alone: its body
    is never read (a client without the key could otherwise make the service take in 20 MB, or
    hold a connection open sending it a byte at a time).  The routes check the key again."""

    def __init__(self, app, authorised):
        self.app, self.authorised = app, authorised

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/v1/") or scope["path"] == "/v1/session":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.authorised(headers):
            return await self.app(scope, receive, send)
        response = JSONResponse({"detail": "missing or wrong API key (send it as the X-API-Key header)"},
                                status_code=401, headers={"WWW-Authenticate": "Bearer", "Connection": "close"})
        return await response(scope, receive, send)


class _Guard:
    """Requests from elsewhere than the service's own page and clients, refused before routing:
    a browser's cross-site POST or DELETE (its Origin is another site: a page the user visits
    must not enrol or forget people through their browser), and, where allowed_hosts is given,
    any Host header not in it (a site that rebinds its name to 127.0.0.1 reaches a loopback
    service with its own name as Host)."""

    def __init__(self, app, allowed_hosts=None):
        self.app = app
        self.allowed = {h.lower() for h in allowed_hosts} if allowed_hosts else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        from urllib.parse import urlsplit

        headers = dict(scope["headers"])
        host = headers.get(b"host", b"").decode("latin-1").lower()
        name = urlsplit(f"//{host}").hostname or ""
        refusal = None
        if self.allowed is not None and name not in self.allowed:
            refusal = (400, f"Host '{host}' is not one this service answers to")
        origin = headers.get(b"origin")
        if refusal is None and origin and scope["method"] not in ("GET", "HEAD", "OPTIONS") \
                and urlsplit(origin.decode("latin-1")).netloc.lower() != host:
            refusal = (403, "cross-site request refused (its Origin is another site)")
        if refusal:
            return await JSONResponse({"detail": refusal[1]}, status_code=refusal[0])(scope, receive, send)
        return await self.app(scope, receive, send)


def _one_line(errors) -> str:
    """FastAPI's list of validation errors as one sentence."""
    parts = []
    for e in errors:
        where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path"))
        msg = e.get("msg", "invalid")
        if "UploadFile" in msg:  # a text field where a file belongs
            msg = "send the photo as a file, not as text"
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts) or "invalid request"


def create_app(service, allowed_hosts=None):
    """A FastAPI app serving ``service`` (a serve.service.Service); starting the app starts its
    cameras, stopping it stops them.  allowed_hosts: the only Host names answered (None: any)."""
    from .. import __version__
    from . import routes

    @asynccontextmanager
    async def lifespan(app):
        service.start()
        try:
            yield
        finally:
            await asyncio.to_thread(service.close)

    kwargs = dict(title="facerec", version=__version__, lifespan=lifespan,
                  description="Face recognition for cameras and other programs: identify faces in photos, "
                              "verify two photos, manage the gallery of people, follow cameras' appearances.")
    try:  # the API page's scripts from the package, not a CDN: the service may have no internet
        from fastapi_offline import FastAPIOffline as App
    except ImportError:
        App = FastAPI
    app = App(**kwargs)
    app.state.service = service
    _error_handlers(app)
    guard = Depends(_authorisation(service))
    for router in (routes.recognition(service, guard), routes.gallery(service, guard),
                   routes.appearances(service, guard), routes.service_routes(service)):
        app.include_router(router)
    # In front of the routes, so nothing over the limit is read, let alone parsed.
    app.add_middleware(_BodyLimit, max_bytes=service.limits.max_body_bytes)
    if service.api_key is not None:  # before the body is read at all
        app.add_middleware(_KeyFirst, authorised=lambda headers: _has_key(service.api_key, headers))
    app.add_middleware(_Guard, allowed_hosts=allowed_hosts)  # outermost: checked first
    return app


def _error_handlers(app) -> None:
    """Errors always JSON with a message."""

    @app.exception_handler(HTTPException)
    async def _http_error(request, exc):
        return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Refused)
    async def _refused(request, exc):
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.exception_handler(FacerecError)
    async def _facerec_error(request, exc):
        from ..files import CannotWrite

        # A full disk is the service's trouble, not the request's: 507 Insufficient Storage.
        return JSONResponse({"detail": str(exc)}, status_code=507 if isinstance(exc, CannotWrite) else 400)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request, exc):
        kind = request.headers.get("content-type", "")
        expects_form = any(e.get("loc", ("",))[0] == "body" for e in exc.errors())
        if expects_form and request.method == "POST" and not kind.startswith("multipart/form-data"):
            return JSONResponse({"detail": f"send a multipart/form-data form (got {kind or 'no content type'}); "
                                           f"see /docs for the fields"}, status_code=415)
        return JSONResponse({"detail": _one_line(exc.errors())}, status_code=422)

    @app.exception_handler(Exception)
    async def _fault(request, exc):
        log.exception("%s %s failed", request.method, request.url.path)
        return JSONResponse({"detail": f"internal error ({type(exc).__name__}); the service's log has the details"},
                            status_code=500)


def _has_key(key: str, headers: dict) -> bool:
    """Whether request headers (lower-case names) carry the key: X-API-Key, a Bearer token or the page's cookie."""
    from starlette.requests import cookie_parser  # the routes' own reading (lenient, as browsers are)

    bearer = headers.get("authorization", "")
    given = headers.get("x-api-key") or (bearer[7:] if bearer.lower().startswith("bearer ") else None) \
        or cookie_parser(headers.get("cookie", "")).get(COOKIE)
    return bool(given) and hmac.compare_digest(given.encode(), key.encode())


def _authorisation(service):
    """The dependency that refuses a request without the service's API key (when it has one)."""
    header_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="the key given to --api-key")

    def authorised(request: Request, key: str | None = Depends(header_key)) -> None:
        # key: declared so the API page shows the header; the headers hold it as well.
        if service.api_key is None:
            return
        if not _has_key(service.api_key, dict(request.headers)):  # Starlette's names are lower-case
            raise HTTPException(401, "missing or wrong API key (send it as the X-API-Key header)",
                                headers={"WWW-Authenticate": "Bearer"})

    return authorised
