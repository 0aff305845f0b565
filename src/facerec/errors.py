"""The one exception type a user can cause, so CLIs can print it as one line."""


class FacerecError(Exception):
    """A problem with the user's input (path, file, model, image) with a message saying what to do."""
