"""The service's routes, one router per part of the API: recognition, the gallery, appearances,
the service itself.  Each is built over a Service (service.py); app.py puts them together behind
the API key, the limits and the error handlers."""
import asyncio
import hmac
import json
from pathlib import Path

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException

from .uploads import Refused

COOKIE = "facerec_key"
PAGE = Path(__file__).with_name("page.html")


async def _bytes_of(upload, what: str) -> bytes:
    if upload is None or not hasattr(upload, "read"):
        raise Refused(400, f"send the photo as a file in the form field '{what}'")
    return await upload.read()


def recognition(service, guard) -> APIRouter:
    router = APIRouter(dependencies=[guard], tags=["recognition"])

    @router.post("/v1/identify",
                 summary="Name every face of a photo (Unknown for strangers)")
    async def identify(image: UploadFile = File(..., description="the photo (JPEG, PNG, ...)")):
        data = await _bytes_of(image, "image")
        return {"faces": await asyncio.to_thread(service.identify_upload, data)}

    @router.post("/v1/verify",
                 summary="Are two photos of the same person? (each photo's main face)")
    async def verify(image_a: UploadFile = File(...), image_b: UploadFile = File(...)):
        a, b = await _bytes_of(image_a, "image_a"), await _bytes_of(image_b, "image_b")
        return await asyncio.to_thread(service.verify_uploads, a, b)

    return router


def gallery(service, guard) -> APIRouter:
    router = APIRouter(dependencies=[guard], tags=["gallery"])
    limits = service.limits

    @router.get("/v1/people", summary="Everyone enrolled")
    async def people():
        return {"people": service.gallery.people(), "acceptance_distance": service.gallery.acceptance_distance()}

    @router.post("/v1/people/{name}/from-camera/{camera}",
                 summary="Enrol the person in front of a camera: a few seconds of it, the good faces as "
                         "different as were seen (preview=true: show them, enrol nothing; capture=ID: "
                         "enrol the faces that preview showed)")
    async def from_camera(name: str, camera: str, seconds: float = Query(5.0, gt=0, le=30),
                          faces: int = Query(10, ge=1, le=100), preview: bool = False,
                          capture: str | None = None):
        if preview:
            return await asyncio.to_thread(service.filming.preview, name, camera, seconds, faces)
        return await asyncio.to_thread(service.filming.enrol, name, camera, capture, seconds, faces)

    @router.post("/v1/people/{name:path}",
                 summary="Enrol a person, or add photos to one (replace=true: replace their photos)")
    async def enrol(name: str, photos: list[UploadFile] = File(..., description="one face photo or more"),
                    replace: bool = Form(False)):
        service.check_name(name)  # before any photo is decoded
        if len(photos) > limits.max_photos:
            raise Refused(413, f"{len(photos)} photos: at most {limits.max_photos} per request")
        # The files' bytes (the body limit bounds them); each is decoded only when its turn
        # comes, so 20 photos of 40 megapixels hold one decoded photo at a time, not 20.
        files = [(f"upload:{p.filename or f'photo {i + 1}'}", f"photos[{i}]", await _bytes_of(p, f"photos[{i}]"))
                 for i, p in enumerate(photos)]
        return await asyncio.to_thread(service.enrol, name, files, replace)

    @router.delete("/v1/people/{name:path}", summary="Forget a person")
    async def forget(name: str):
        await asyncio.to_thread(service.forget, name)
        return {"forgotten": name, "people": len(service.gallery.people())}

    return router


def appearances(service, guard) -> APIRouter:
    router = APIRouter(dependencies=[guard], tags=["cameras"])

    @router.get("/v1/events", summary="Recent appearances, oldest first")
    async def events(limit: int = Query(100, ge=1, le=1000), camera: str | None = None,
                     after: int | None = Query(None, description="only events with a larger id")):
        return {"events": service.bus.recent(limit, camera, after)}

    @router.get("/v1/events/stream",
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

    @router.get("/v1/appearances/{appearance}/thumbnail",
                summary="The face of an appearance (JPEG), while it is recent", response_class=Response)
    async def thumbnail(appearance: str):
        data = service.bus.thumbnail(appearance)
        if data is None:
            raise HTTPException(404, f"no thumbnail for appearance '{appearance}' (unknown, or no longer recent)")
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})

    return router


def service_routes(service) -> APIRouter:
    router = APIRouter()

    @router.get("/healthz", tags=["service"], summary="Is it up; cameras, models, event outputs")
    async def healthz():
        h = service.health()
        return JSONResponse(h, status_code=503 if h["status"] == "failing" else 200)

    @router.post("/v1/session", tags=["service"], summary="Keep the API key in a cookie (for the web page)")
    async def session(key: str = Form(...)):
        if service.api_key is None:
            return {"authorised": True, "key_required": False}
        if not hmac.compare_digest(key.encode(), service.api_key.encode()):
            raise HTTPException(401, "wrong API key")
        response = JSONResponse({"authorised": True, "key_required": True})
        response.set_cookie(COOKIE, key, httponly=True, samesite="strict")
        return response

    @router.get("/", include_in_schema=False)
    async def page():
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    return router

