"""Load test of `facerec serve` on 127.0.0.1: concurrent clients posting LFW photos to /v1/identify,
with or without cameras (the Hamilton clip, looped) running, the server's memory sampled as it goes;
and (--hostile) the hostile requests the service must turn away with a JSON 4xx while it keeps serving.

    python bench/serve_load.py                              # 16 clients, 60 s, no cameras
    python bench/serve_load.py --cameras 2                  # the same with two cameras running
    python bench/serve_load.py --cameras 2 --seconds 600    # ten minutes: memory at minute 1 and 10
    python bench/serve_load.py --hostile                    # a server with --api-key, hostile requests

The gallery: the first two photos of each of lfw-dev's 86 people, and the two Hamilton photos
(so the cameras name people).  Clients post every other lfw-dev photo in turn (mostly enrolled
people, a few seen once), one request at a time each, over kept-alive connections.  Memory is the
server process's resident set (VmRSS) and its peak so far (VmHWM), from /proc.  Camera frames/s
are the frames each camera's tracker processed during the measured time (the clip plays at
29.97 frames/s; frames it could not keep up with are dropped, as from a live camera).
Writes bench/out/serve_load*.json; run by hand (not part of make bench: it takes minutes).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("FACEREC_SHARED_DATA", HERE.parent.parent / "shared" / "data"))
LFW = SHARED / "lfw-dev"
VIDEO = SHARED / "video"
FACEREC = Path(sys.executable).with_name("facerec")
KEY = "bench-key-0123456789"


def build_gallery(folder: Path) -> Path:
    """The first two photos of each lfw-dev person, and the two Hamilton photos, enrolled."""
    people = folder / "people"
    for person in sorted(p for p in LFW.iterdir() if p.is_dir()):
        (people / person.name).mkdir(parents=True)
        for photo in sorted(person.glob("*.jpg"))[:2]:
            (people / person.name / photo.name).symlink_to(photo)
    for name, photo in (("lin_manuel_miranda", "lin-manuel-miranda.png"), ("alex_lacamoire", "alex-lacamoire.png")):
        (people / name).mkdir()
        (people / name / photo).symlink_to(VIDEO / photo)
    gallery = folder / "gallery.npz"
    subprocess.run([str(FACEREC), "enrol", str(gallery), str(people)], check=True, stdout=subprocess.DEVNULL)
    return gallery


def request_photos() -> list[bytes]:
    """lfw-dev photos not used for the gallery (the third on), as bytes."""
    photos = []
    for person in sorted(p for p in LFW.iterdir() if p.is_dir()):
        photos += [p.read_bytes() for p in sorted(person.glob("*.jpg"))[2:]]
    return photos


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory(pid: int) -> dict:
    """VmRSS and VmHWM (peak) of a process, in MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


class Server:
    """`facerec serve` in a process of its own."""

    def __init__(self, gallery: Path, cameras: int, log: Path, api_key: str | None = None):
        import httpx

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [str(FACEREC), "serve", "--gallery", str(gallery), "--port", str(self.port), "--no-access-log"]
        for i in range(cameras):
            argv += ["--camera", f"cam{i + 1}={VIDEO / 'short_hamilton_clip.mp4'}"]
        if api_key:
            argv += ["--api-key", api_key]
        self.log = open(log, "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server stopped: see {log}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).json()["status"] == "ok":
                    break
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the server did not start: see {log}")
            time.sleep(0.5)

    def health(self) -> dict:
        import httpx

        return httpx.get(f"{self.url}/healthz", timeout=10).json()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Load:
    """`clients` threads, each posting one photo at a time to /v1/identify until stopped."""

    def __init__(self, url: str, photos: list[bytes], clients: int, headers: dict | None = None):
        self.url, self.photos, self.headers = url, photos, headers or {}
        self.lock = threading.Lock()
        self.samples: list = []  # (finished at, seconds, ok)
        self.errors: list = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._client, args=(i, clients), daemon=True) for i in range(clients)]
        for t in self.threads:
            t.start()

    def _client(self, i: int, n: int) -> None:
        import httpx

        with httpx.Client(base_url=self.url, headers=self.headers, timeout=60) as client:
            k = i
            while not self.stop.is_set():
                photo = self.photos[k % len(self.photos)]
                k += n
                t = time.perf_counter()
                try:
                    r = client.post("/v1/identify", files={"image": ("photo.jpg", photo, "image/jpeg")})
                    ok = r.status_code == 200 and "faces" in r.json()
                    why = None if ok else f"{r.status_code} {r.text[:200]}"
                except httpx.HTTPError as exc:
                    ok, why = False, f"{type(exc).__name__}: {exc}"
                done = time.perf_counter()
                with self.lock:
                    self.samples.append((done, done - t, ok))
                    if why:
                        self.errors.append(why)

    def window(self, start: float, end: float) -> dict:
        with self.lock:
            rows = [s for s in self.samples if start <= s[0] < end]
        latencies = sorted(s[1] for s in rows if s[2])
        if not latencies:
            return {"requests": len(rows), "errors": len(rows)}

        def q(p):
            return round(1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))], 1)

        return {"requests": len(rows), "errors": sum(not s[2] for s in rows),
                "requests_per_s": round(len(rows) / (end - start), 2),
                "p50_ms": q(0.50), "p95_ms": q(0.95), "p99_ms": q(0.99),
                "mean_ms": round(1000 * statistics.fmean(latencies), 1)}

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(60)


def run_load(args, gallery: Path, photos: list[bytes], out: Path) -> dict:
    server = Server(gallery, args.cameras, out.with_suffix(".server.log"))
    pid = server.proc.pid
    try:
        print(f"server pid {pid}, {args.cameras} camera(s); {args.clients} clients, "
              f"{args.warmup:g} s warm-up, {args.seconds:g} s measured", flush=True)
        load = Load(server.url, photos, args.clients)
        time.sleep(args.warmup)
        t0 = time.perf_counter()
        h0 = server.health()
        minutes, memory_log = [], []
        next_mark = 60.0
        while (elapsed := time.perf_counter() - t0) < args.seconds:
            time.sleep(min(1.0, args.seconds - elapsed))
            elapsed = time.perf_counter() - t0
            mem = memory(pid)
            memory_log.append((round(elapsed, 1), mem["VmRSS"], mem["VmHWM"]))
            if next_mark <= args.seconds + 0.5 and (elapsed >= next_mark - 0.5 or elapsed >= args.seconds):
                h = server.health()
                w = load.window(t0 + next_mark - 60, t0 + min(next_mark, elapsed))
                row = {"minute": int(round(next_mark / 60)), **w, "rss_mb": round(mem["VmRSS"], 1),
                       "peak_rss_mb": round(mem["VmHWM"], 1),
                       "camera_fps": {n: c["fps"] for n, c in h["cameras"].items()}}
                minutes.append(row)
                print(json.dumps(row), flush=True)
                next_mark += 60.0
        t1 = time.perf_counter()
        h1 = server.health()
        load.close()
        total = load.window(t0, t1)
        cameras = {n: {"frames_per_s": round((h1["cameras"][n]["frames"] - h0["cameras"][n]["frames"]) / (t1 - t0), 1),
                       "dropped": h1["cameras"][n]["dropped"] - h0["cameras"][n]["dropped"],
                       "state": h1["cameras"][n]["state"]} for n in h1["cameras"]}
        result = {"clients": args.clients, "seconds": round(t1 - t0, 1), "cameras": cameras, **total,
                  "error_samples": load.errors[:5], "per_minute": minutes,
                  "events_published": h1["events"]["published"],
                  "largest_embedding_batch": h1["models"]["largest_embedding_batch"],
                  "memory": memory_log}
        if len(minutes) >= 2:
            first, last = minutes[0]["peak_rss_mb"], minutes[-1]["peak_rss_mb"]
            result["peak_rss_growth_pct"] = round(100 * (last - first) / first, 2)
        return result
    finally:
        server.stop()


def huge_png(width=20000, height=20000) -> bytes:
    """A complete, valid 400-megapixel PNG (1-bit grey)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\0" * (1 + (width + 7) // 8)
    z = zlib.compressobj(9)
    body = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def raw_post(port: int, path: str, headers: dict, body_size: int) -> tuple[int, str]:
    """POST a body of body_size zero bytes over a plain socket, reading the answer whenever it comes
    (a server may answer a too-large body before it has all been sent, as it should)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {body_size}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    s.sendall(head.encode())
    chunk, sent = b"\0" * (1 << 20), 0
    try:
        while sent < body_size:
            s.sendall(chunk[: body_size - sent])
            sent += len(chunk)
    except OSError:
        pass  # the server answered and closed: read what it said
    data = b""
    try:
        while True:
            part = s.recv(65536)
            if not part:
                break
            data += part
            if b"\r\n\r\n" in data:
                head_, _, rest = data.partition(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head_.split(b"\r\n")
                               if line.lower().startswith(b"content-length")), None)
                if length is not None and len(rest) >= length:
                    break
    except OSError:
        pass
    s.close()
    head_, _, rest = data.partition(b"\r\n\r\n")
    return int(head_.split()[1]), rest.decode(errors="replace") + f"  (sent {min(sent, body_size) >> 20} MB)"


def run_hostile(gallery: Path, photos: list[bytes], out: Path) -> dict:
    import httpx

    server = Server(gallery, 0, out.with_suffix(".server.log"), api_key=KEY)
    key = {"X-API-Key": KEY}
    obama = photos[0]
    forty_mp = huge_png(6000, 6600)  # 39.6 megapixels, just under the limit; 119 MB decoded
    rows = []
    try:
        c = httpx.Client(base_url=server.url, timeout=60)
        tries = [
            ("not an image", lambda: c.post("/v1/identify", headers=key,
                                            files={"image": ("x.jpg", b"this is not a photo", "image/jpeg")})),
            ("a 400-megapixel PNG", lambda: c.post("/v1/identify", headers=key,
                                                   files={"image": ("big.png", huge_png(), "image/png")})),
            ("a wrong content type (JSON)", lambda: c.post("/v1/identify", headers=key, json={"image": "x.jpg"})),
            ("a 50 MB body", lambda: raw_post(server.port, "/v1/identify",
                                              {**key, "Content-Type": "multipart/form-data; boundary=x"}, 50 << 20)),
            ("a name with ../", lambda: c.post("/v1/people/..%2F..%2Fetc%2Fpasswd", headers=key,
                                               files=[("photos", ("p.jpg", obama, "image/jpeg"))])),
            ("20 photos of 40 MP in one enrolment", lambda: c.post(
                "/v1/people/Big_Photos", headers=key,
                files=[("photos", (f"b{i}.png", forty_mp, "image/png")) for i in range(20)])),
            ("no API key", lambda: c.post("/v1/identify", files={"image": ("p.jpg", obama, "image/jpeg")})),
            ("a wrong API key", lambda: c.get("/v1/people", headers={"X-API-Key": "not-the-key"})),
        ]
        for what, send in tries:
            t = time.perf_counter()
            r = send()
            took = time.perf_counter() - t
            status, body = (r.status_code, r.text) if hasattr(r, "status_code") else r
            try:
                is_json = isinstance(json.loads(body.split("  (sent")[0]), dict)
            except ValueError:
                is_json = False
            after = c.post("/v1/identify", headers=key, files={"image": ("p.jpg", obama, "image/jpeg")})
            rows.append({"request": what, "status": status, "json": is_json, "answer": body[:160],
                         "seconds": round(took, 3), "identify_after": after.status_code,
                         "rss_mb": round(memory(server.proc.pid)["VmRSS"], 1)})
            print(f"{what:30s} {status}  {body[:110]}  ({took:.2f} s; identify after: {after.status_code})",
                  flush=True)
        health = server.health()
        return {"requests": rows, "alive_after": server.proc.poll() is None and health["status"] == "ok",
                "peak_rss_mb": round(memory(server.proc.pid)["VmHWM"], 1)}
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--warmup", type=float, default=5)
    ap.add_argument("--cameras", type=int, default=0, choices=[0, 1, 2, 3, 4])
    ap.add_argument("--hostile", action="store_true", help="the hostile requests instead of the load")
    args = ap.parse_args()
    if not LFW.exists():
        raise SystemExit(f"needs {LFW} (the shared lfw-dev photos)")
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        gallery = build_gallery(Path(tmp))
        photos = request_photos()
        if args.hostile:
            out = out_dir / "serve_hostile.json"
            result = run_hostile(gallery, photos, out)
        else:
            out = out_dir / f"serve_load_{args.cameras}cam_{int(args.seconds)}s.json"
            result = run_load(args, gallery, photos, out)
            print(json.dumps({k: v for k, v in result.items() if k not in ("memory", "per_minute")}, indent=1))
    out.write_text(json.dumps(result, indent=1))
    print(f"written {out}")


if __name__ == "__main__":
    main()
