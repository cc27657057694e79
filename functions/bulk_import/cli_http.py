"""The command line's client of the public API: JSON calls with a key, the presigned upload, downloads.

Every failure becomes a ``CommandError`` whose message is one line a person can act on: the API cannot
be reached, the key is refused (401) or lacks a scope (403), the API refused the request (its message).
"""

from __future__ import annotations

import json
import mimetypes
import socket
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, urlsplit

#: Seconds one request may take before the command gives up on it.
TIMEOUT = 60.0
#: Content types of the file formats imports read (others: whatever the system knows, or binary).
CONTENT_TYPES = {
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".txt": "text/plain",
    ".json": "application/json",
    ".jsonl": "application/x-ndjson",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: How much of the file is sent at a time (and how often the bar moves).
BLOCK = 64 * 1024


class CommandError(Exception):
    """A problem that ends a command with exit status 2; the message is one line."""


def content_type(path: Path) -> str:
    """The media type a file is uploaded with, from its extension."""
    known = CONTENT_TYPES.get(path.suffix.lower())
    return known or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def check_api_url(url: str) -> str:
    """The API's base URL without a trailing slash; CommandError when it is not an http(s) URL."""
    refused = CommandError(f"--api {url!r}: not an http:// or https:// URL (e.g. http://127.0.0.1:3000)")
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises on a port that is not a number from 0 to 65535
    except ValueError:  # an unclosed [ of an IPv6 address, a port that is no port
        raise refused from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise refused
    return url.strip().rstrip("/")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    if isinstance(exc, socket.timeout | TimeoutError):
        return "no answer in time"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text).strip().splitlines()[0][:200]


def _message(status: int, payload: bytes) -> str:
    """The error answer's own message (the API's JSON, or S3's XML), clipped to one line."""
    text = payload.decode("utf-8", errors="replace").strip()
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict) and document.get("message"):
        text = str(document["message"])
    elif "<Message>" in text:
        text = text.split("<Message>", 1)[1].split("</Message>", 1)[0]
    line = " ".join(text.split())
    return line[:300] + ("…" if len(line) > 300 else "")


def _api_error(payload: bytes) -> bool:
    """Whether an error answer has the API's shape: a JSON object with a ``message``."""
    try:
        document = json.loads(payload)
    except ValueError:
        return False
    return isinstance(document, dict) and isinstance(document.get("message"), str)


class ApiClient:
    """Calls of the public API with one key.

    Parameters
    ----------
    base_url
        The API's URL (``http://127.0.0.1:3000``, or the stage URL of a deployment).
    key
        The API key, sent as ``X-API-Key``.
    """

    def __init__(self, base_url: str, key: str) -> None:
        self.base_url = check_api_url(base_url)
        self.key = key

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """Send one request; its JSON answer when the status is below 400.

        Raises
        ------
        CommandError
            The API cannot be reached, refuses the key (401) or the scope (403), or the request (4xx/5xx),
            or answers something that is not JSON.
        """
        data = json.dumps(body).encode() if body is not None else None
        headers = {"X-API-Key": self.key, "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
                payload = answer.read()
        except urllib.error.HTTPError as exc:
            raise CommandError(self._refusal(method, path, exc.code, exc.read())) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise CommandError(f"cannot reach the API at {self.base_url}: {_reason(exc)}") from None
        try:
            return json.loads(payload)
        except ValueError:
            raise CommandError(
                f"{method} {path}: the answer is not JSON; is {self.base_url} the bulk import API?"
            ) from None

    def _refusal(self, method: str, path: str, status: int, payload: bytes) -> str:
        message = _message(status, payload)
        if status == 401:
            return (
                f"the API at {self.base_url} does not know this key (401): check --key or BULK_IMPORT_API_KEY"
            )
        if status == 403 and message == "Missing Authentication Token":
            return f"{method} {path}: the API at {self.base_url} has no such route (403); check --api"
        if status == 403:
            return f"the key is not allowed to do this (403): {message}"
        if status == 404 and message.startswith("no route"):
            return f"{method} {path}: the API at {self.base_url} has no such route (404); check --api"
        if not _api_error(payload):
            # Another web server's page (a proxy's, a framework's) says nothing a person can act on here.
            return (
                f"{method} {path} answered {status}, and not as the bulk import API answers; "
                f"is {self.base_url} the bulk import API?"
            )
        return f"{method} {path} answered {status}: {message}"

    def import_path(self, import_id: str, tail: str = "") -> str:
        """The path of an import's route (``/v1/imports/{importId}{tail}``)."""
        return f"/v1/imports/{quote(import_id, safe='')}{tail}"


class _Reading:
    """A file object that reports how many bytes were read from it."""

    def __init__(self, handle: IO[bytes], on_progress: Callable[[int], None]) -> None:
        self.handle = handle
        self.sent = 0
        self.on_progress = on_progress

    def read(self, size: int = -1) -> bytes:
        chunk = self.handle.read(BLOCK if size is None or size < 0 else min(size, BLOCK))
        self.sent += len(chunk)
        self.on_progress(self.sent)
        return chunk


def upload(url: str, path: Path, media_type: str, on_progress: Callable[[int], None]) -> None:
    """PUT a file's bytes to a presigned URL, reporting the bytes sent.

    Raises
    ------
    CommandError
        The URL cannot be reached, or the storage refuses the upload (an expired URL...).
    """
    size = path.stat().st_size
    with path.open("rb") as handle:
        body = _Reading(handle, on_progress)
        headers = {"Content-Type": media_type, "Content-Length": str(size)}
        request = urllib.request.Request(url, data=body, method="PUT", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
                answer.read()
        except urllib.error.HTTPError as exc:
            raise CommandError(
                f"the upload was refused ({exc.code}): {_message(exc.code, exc.read())}"
            ) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            host = urlsplit(url).netloc
            raise CommandError(f"cannot upload the file to {host}: {_reason(exc)}") from None


def download(url: str, target: Path) -> int:
    """Save what a (presigned) URL answers to ``target``; the number of bytes.

    Raises
    ------
    CommandError
        The URL cannot be read, or the file cannot be written.
    """
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as answer:
            payload = answer.read()
    except urllib.error.HTTPError as exc:
        raise CommandError(
            f"cannot download {target.name} ({exc.code}): {_message(exc.code, exc.read())}"
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise CommandError(f"cannot download {target.name}: {_reason(exc)}") from None
    try:
        target.write_bytes(payload)
    except OSError as exc:
        raise CommandError(f"cannot write {target}: {exc.strerror or exc}") from None
    return len(payload)
