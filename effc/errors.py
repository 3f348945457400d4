"""The one user-facing error type.

An EffcError is a user mistake or an unmet requirement. Its message is one
line naming the problem and what to do. The CLI prints it and exits with 2.
"""


class EffcError(Exception):
    """A one-line, user-facing error (the CLI exits with status 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))
