"""Progress of long work: a bar on a terminal, a plain line now and then when piped or logged."""
from __future__ import annotations

import sys
import time


class _Lines:
    """A progress line on stderr every `every` seconds (and at the end), for logs and pipes."""

    def __init__(self, total: int | None, desc: str, unit: str, every: float):
        self.total, self.desc, self.unit, self.every = total, desc, unit, every
        self.n = 0
        self.t0 = self.last = time.monotonic()
        self.postfix = ""

    def set_postfix_str(self, text: str) -> None:
        """What to add to each line (tqdm's name for it): "3 s left, 12 good faces"."""
        self.postfix = text

    def update(self, n: int = 1):
        self.n += n
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            self._say(now)

    def _say(self, now):
        of = f"/{self.total}" if self.total else ""
        pct = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        extra = f"; {self.postfix}" if self.postfix else ""
        print(f"{self.desc}: {self.n}{of} {self.unit}{pct}, {now - self.t0:.0f} s{extra}", file=sys.stderr, flush=True)

    def close(self):
        if self.n and time.monotonic() - self.t0 >= self.every:
            self._say(time.monotonic())


def line_interval() -> float:
    """Seconds between progress lines when piped: $FACEREC_PROGRESS_EVERY, else 10 ("inf": none)."""
    import os

    try:
        return float(os.environ.get("FACEREC_PROGRESS_EVERY", "10"))
    except ValueError:
        return 10.0


def progress(total: int | None = None, desc: str = "Working", unit: str = "img", every: float | None = None,
             enabled: bool = True):
    """An object with update(n) and close(): tqdm on a terminal, else a line every `every` seconds
    (default: line_interval()).

    >>> bar = progress(len(paths), "Faces"); [bar.update() for _ in paths]; bar.close()
    """
    if not enabled:
        return _Lines(total, desc, unit, every=float("inf"))
    if sys.stderr.isatty():
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr)
    return _Lines(total, desc, unit, line_interval() if every is None else every)
