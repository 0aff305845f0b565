"""The HTTP face of the service: FastAPI routes over a Service, the web page, and the rules that
keep it safe (API key, body and pixel limits, every error a JSON body with a message).

Errors all look alike, FastAPI's own shape with the message as one string:
``{"detail": "image: not an image (unknown format)"}`` with a 4xx status (5xx only for a fault
of the service itself), including the 404s, 405s and validation errors FastAPI raises.
"""
import asyncio
import hmac
import json
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.security import APIKeyHeader
from starlette.exceptions import HTTPException

from ..errors import FacerecError
from .uploads import Refused, decode_image

COOKIE = "facerec_key"
PAGE = Path(__file__).with_name("page.html")
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
    limits = service.limits

    # --- errors: always JSON with a message -------------------------------------------------

    @app.exception_handler(HTTPException)
    async def _http_error(request, exc):
        return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Refused)
    async def _refused(request, exc):
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.exception_handler(FacerecError)
    async def _facerec_error(request, exc):
        return JSONResponse({"detail": str(exc)}, status_code=400)

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

    # --- the API key ------------------------------------------------------------------------

    header_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="the key given to --api-key")

    def authorised(request: Request, key: str | None = Depends(header_key)) -> None:
        if service.api_key is None:
            return
        bearer = request.headers.get("authorization", "")
        given = key or (bearer[7:] if bearer.lower().startswith("bearer ") else None) or request.cookies.get(COOKIE)
        if not given or not hmac.compare_digest(given.encode(), service.api_key.encode()):
            raise HTTPException(401, "missing or wrong API key (send it as the X-API-Key header)",
                                headers={"WWW-Authenticate": "Bearer"})

    guarded = [Depends(authorised)]

    async def image_of(upload, what: str):
        """The upload's RGB pixels, decoded off the event loop; Refused when it is not a usable image."""
        if upload is None or not hasattr(upload, "read"):
            raise Refused(400, f"send the photo as a file in the form field '{what}'")
        data = await upload.read()
        return await asyncio.to_thread(decode_image, data, limits.max_pixels, what)

    # --- recognition ------------------------------------------------------------------------

    @app.post("/v1/identify", dependencies=guarded, tags=["recognition"],
              summary="Name every face of a photo (Unknown for strangers)")
    async def identify(image: UploadFile = File(..., description="the photo (JPEG, PNG, ...)")):
        pixels = await image_of(image, "image")
        return {"faces": await asyncio.to_thread(service.identify, pixels)}

    @app.post("/v1/verify", dependencies=guarded, tags=["recognition"],
              summary="Are two photos of the same person? (each photo's main face)")
    async def verify(image_a: UploadFile = File(...), image_b: UploadFile = File(...)):
        a = await image_of(image_a, "image_a")
        b = await image_of(image_b, "image_b")
        return await asyncio.to_thread(service.verify, a, b)

    # --- the gallery ------------------------------------------------------------------------

    @app.get("/v1/people", dependencies=guarded, tags=["gallery"], summary="Everyone enrolled")
    async def people():
        return {"people": service.gallery.people(), "acceptance_distance": service.gallery.acceptance_distance()}

    @app.post("/v1/people/{name:path}", dependencies=guarded, tags=["gallery"],
              summary="Enrol a person, or add photos to one (replace=true: replace their photos)")
    async def enrol(name: str, photos: list[UploadFile] = File(..., description="one face photo or more"),
                    replace: bool = Form(False)):
        service.check_name(name)  # before any photo is decoded
        if len(photos) > limits.max_photos:
            raise Refused(413, f"{len(photos)} photos: at most {limits.max_photos} per request")
        images = [(f"upload:{p.filename or f'photo {i + 1}'}", await image_of(p, f"photos[{i}]"))
                  for i, p in enumerate(photos)]
        return await asyncio.to_thread(service.enrol, name, images, replace)

    @app.delete("/v1/people/{name:path}", dependencies=guarded, tags=["gallery"], summary="Forget a person")
    async def forget(name: str):
        await asyncio.to_thread(service.forget, name)
        return {"forgotten": name, "people": len(service.gallery.people())}

    # --- appearances ------------------------------------------------------------------------

    @app.get("/v1/events", dependencies=guarded, tags=["cameras"], summary="Recent appearances, oldest first")
    async def events(limit: int = Query(100, ge=1, le=1000), camera: str | None = None,
                     after: int | None = Query(None, description="only events with a larger id")):
        return {"events": service.bus.recent(limit, camera, after)}

    @app.get("/v1/events/stream", dependencies=guarded, tags=["cameras"],
             summary="Appearances as they happen (Server-Sent Events)")
    async def stream(request: Request, after: int | None = Query(None, description="replay events after this id")):
        last = request.headers.get("last-event-id")
        after = int(last) if last and last.isdigit() else after
        subscriber = service.bus.subscribe(asyncio.get_running_loop())

        async def lines():
            sent = after or 0
            try:
                yield "retry: 2000\n\n"
                if after is not None:  # a client reconnecting: what it missed, from the recent list
                    for event in service.bus.recent(1000, after=after):
                        sent = event["id"]
                        yield f"id: {sent}\nevent: {event['type']}\ndata: {json.dumps(event)}\n\n"
                while True:
                    try:
                        event = await asyncio.wait_for(subscriber.queue.get(), 15)
                    except asyncio.TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    if event is None or await request.is_disconnected():  # fell behind, stopping, or gone
                        return
                    if event["id"] <= sent:
                        continue
                    sent = event["id"]
                    yield f"id: {sent}\nevent: {event['type']}\ndata: {json.dumps(event)}\n\n"
            finally:
                service.bus.unsubscribe(subscriber)

        return StreamingResponse(lines(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.get("/v1/appearances/{appearance}/thumbnail", dependencies=guarded, tags=["cameras"],
             summary="The face of an appearance (JPEG), while it is recent", response_class=Response)
    async def thumbnail(appearance: str):
        data = service.bus.thumbnail(appearance)
        if data is None:
            raise HTTPException(404, f"no thumbnail for appearance '{appearance}' (unknown, or no longer recent)")
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})

    # --- the service ------------------------------------------------------------------------

    @app.get("/healthz", tags=["service"], summary="Is it up; cameras, models, event outputs")
    async def healthz():
        h = service.health()
        return JSONResponse(h, status_code=503 if h["status"] == "failing" else 200)

    @app.post("/v1/session", tags=["service"], summary="Keep the API key in a cookie (for the web page)")
    async def session(key: str = Form(...)):
        if service.api_key is None:
            return {"authorised": True, "key_required": False}
        if not hmac.compare_digest(key.encode(), service.api_key.encode()):
            raise HTTPException(401, "wrong API key")
        response = JSONResponse({"authorised": True, "key_required": True})
        response.set_cookie(COOKIE, key, httponly=True, samesite="strict")
        return response

    @app.get("/", include_in_schema=False)
    async def page():
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    # In front of the routes, so nothing over the limit is read, let alone parsed.
    app.add_middleware(_BodyLimit, max_bytes=limits.max_body_bytes)
    app.add_middleware(_Guard, allowed_hosts=allowed_hosts)  # outermost: checked first
    return app
