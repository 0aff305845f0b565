"""Face detection: MTCNN with five landmarks per face."""
from .mtcnn import LANDMARK_NAMES, MTCNN, Detections, Face

__all__ = ["LANDMARK_NAMES", "MTCNN", "Detections", "Face"]
