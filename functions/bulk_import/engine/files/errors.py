"""The one error of file reading: the file as a whole cannot be read."""

from __future__ import annotations


class FileFormatError(Exception):
    """The file cannot be read at all (encoding, structure, header); the message says why, for a person.

    A file that raises it fails its import with this message as the reason; rows that are
    merely invalid never raise it.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
