"""``python -m facerec.validate_on_lfw``: FaceNet's script name for ``facerec validate``."""
import sys

from .cli.validate import main

if __name__ == "__main__":
    sys.exit(main())
