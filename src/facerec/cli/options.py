"""Options several commands share, worded once."""
from __future__ import annotations

THRESHOLD_HELP = ("name a face only when the chance that the name is right is at least P (0-1); every "
                  "answer's probability is that chance, for a name or Unknown, assuming half the faces "
                  "shown are strangers (default: the lowest P that keeps strangers named to the "
                  "false-accept target, 1%%, for the people and photos enrolled)")


def add_threshold(parser, default_note: str = "") -> None:
    """--threshold P, the same probability floor for identify, CLASSIFY, the real-time tool and serve."""
    parser.add_argument("--threshold", type=float, default=None, metavar="P", help=THRESHOLD_HELP + default_note)


def probability_threshold(value: float | None) -> None:
    """Refuse a --threshold that is not a chance, before any work."""
    from ..identity.protocol import check_threshold

    check_threshold(value)
