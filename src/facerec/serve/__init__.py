"""facerec serve: a recognition service for cameras and other programs (FastAPI + uvicorn).

    service.py       the gallery, the model thread, the cameras and the event bus put together
    app.py           the FastAPI app: API key, body limit, JSON errors; the routers included
    routes.py        the routes: recognition, the gallery, appearances, the service and its page
    server.py        listening: the safety checks, the socket, uvicorn
    inference.py     one model thread for everything, batching cameras' and requests' faces
    cameras.py       a camera: video.sources.CameraFeed, the tracker, video.appearances
    events.py        the event bus: recent list, events log, Server-Sent Events, webhook
    live_gallery.py  the gallery file as the service reads and changes it
    uploads.py       uploaded photos decoded under a pixel limit
    page.html        the web page at / (no build step, nothing from the internet)

Nothing here is imported by ``import facerec``; FastAPI is needed only when a service starts.
"""
