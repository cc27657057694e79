"""The request boundary of the HTTP API: what a request must be before any route sees it.

``admit`` runs once per request, before the resolver, on every route: the media type (415), the body
size (413), the encoding, the JSON itself (depth, number length, ``NaN``, lone surrogates: 400). The
body it admits is handed to the resolver as plain UTF-8 text, and the document it parsed is the one
the routes read (``json_body``, the resolver's deserializer), so a body is parsed once and always with
the same rules: numbers with a fraction or an exponent arrive as ``Decimal``, exactly as sent.

``error_body`` builds every 4xx and 5xx answer, ``{"message": ..., "errors": [...]}``, and ``scrub``
keeps answers from repeating what was sent: no more than ``MAX_ECHO`` characters of it, and never a
value of a sensitive field.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bulk_import.entrypoints.http_types import distinct_values as distinct_values
from bulk_import.entrypoints.http_types import header as header
from bulk_import.entrypoints.json_reading import ELLIPSIS as ELLIPSIS
from bulk_import.entrypoints.json_reading import MAX_DEPTH as MAX_DEPTH
from bulk_import.entrypoints.json_reading import MAX_ECHO, JsonBodyError, clip, read_json
from bulk_import.entrypoints.json_reading import MAX_INTEGER_DIGITS as MAX_INTEGER_DIGITS

#: Longest string an error answer carries, and most entries in its ``errors``.
MAX_MESSAGE = 1000
MAX_ERRORS = 50
#: Fields whose values never appear in an answer other than the caller's own stored customer.
SENSITIVE_FIELDS = frozenset({"ssnlastfour", "secret"})
#: Methods whose requests carry a body, so their media type is checked.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class RequestRejectedError(Exception):
    """The request is refused at the boundary; ``status`` and ``message`` are the answer's."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Sent:
    """What the caller sent, as far as answers must not repeat it."""

    texts: list[str] = field(default_factory=list)
    document: Any = None
    _secrets: frozenset[str] | None = None

    def secrets(self) -> frozenset[str]:
        """The values of sensitive fields anywhere in the body (computed on first use)."""
        if self._secrets is None:
            self._secrets = frozenset(_sensitive_values(self.document))
        return self._secrets


_local = threading.local()


def current() -> Sent:
    """What the request being handled on this thread sent (empty outside a request)."""
    sent: Sent | None = getattr(_local, "sent", None)
    return sent if sent is not None else Sent()


def end() -> None:
    """Forget the request of this thread."""
    _local.sent = None
    _local.parsed = None


# -- admitting a request -------------------------------------------------------------------------------
#: Charsets a JSON body may declare: UTF-8, and ASCII, whose text is UTF-8 as it is (a byte beyond ASCII
#: is then read as UTF-8, or refused as not UTF-8, like any body).
UTF8_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})


def check_media_type(value: str | None) -> None:
    """Accept ``application/json`` (``charset=utf-8`` or ASCII allowed) or no Content-Type at all.

    Raises
    ------
    RequestRejectedError
        415 for any other media type or charset.
    """
    if value is None or not value.strip():
        return
    media, *params = (part.strip() for part in value.split(";"))
    if media.lower() != "application/json":
        raise RequestRejectedError(
            415, f"Content-Type {clip(media)!r} is not supported; send application/json"
        )
    for param in params:
        name, _, raw = param.partition("=")
        if name.strip().lower() == "charset" and raw.strip().strip('"').lower() not in UTF8_CHARSETS:
            raise RequestRejectedError(415, f"charset {clip(raw.strip())!r} is not supported; send UTF-8")


#: POST routes that act on what their path names and take no body (``POST /v1/imports/{id}/cancel``).
BODILESS_ACTIONS = ("/cancel", "/retry")


def remember(event: dict[str, Any]) -> Sent:
    """Start a request on this thread: its path and query values are what its answers must not echo
    (``scrub``); its body is read by ``admit``."""
    sent = Sent(texts=[str(event.get("path") or "")])
    sent.texts += [str(v) for v in (event.get("queryStringParameters") or {}).values() if v]
    _local.sent = sent
    _local.parsed = None
    return sent


def admit(event: dict[str, Any], body_limit: int) -> dict[str, Any]:
    """Check one API Gateway proxy event at the boundary and return the event the resolver gets.

    The returned event carries the body as UTF-8 text (never base64) and ``Content-Type:
    application/json``; its parsed document is kept for ``json_body``.

    Raises
    ------
    RequestRejectedError
        415, 413 or 400 with a message naming the problem.
    """
    sent = remember(event)
    method = str(event.get("httpMethod") or "").upper()
    raw = event.get("body")
    path = str(event.get("path") or "")
    if not raw and (method not in BODY_METHODS or path.endswith(BODILESS_ACTIONS)):
        return event
    check_media_type(header(event, "content-type"))
    check_content_encoding(header(event, "content-encoding"))
    data = _body_bytes(raw, bool(event.get("isBase64Encoded")))
    if len(data) > body_limit:
        raise RequestRejectedError(
            413, f"body is {len(data):,} bytes; this endpoint accepts at most {body_limit:,}"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestRejectedError(
            400, f"body: is not UTF-8 (invalid byte at position {exc.start:,}); send UTF-8 JSON"
        ) from None
    sent.texts.append(text)
    if not text.strip():
        raise RequestRejectedError(400, "body: is empty; send a JSON object")
    sent.document = parse_json(text)
    _local.parsed = (text, sent.document)
    headers = {k: v for k, v in (event.get("headers") or {}).items() if str(k).lower() != "content-type"}
    multi = {
        k: v for k, v in (event.get("multiValueHeaders") or {}).items() if str(k).lower() != "content-type"
    }
    return {
        **event,
        "body": text,
        "isBase64Encoded": False,
        "headers": {**headers, "Content-Type": "application/json"},
        "multiValueHeaders": {**multi, "Content-Type": ["application/json"]},
    }


def check_content_encoding(value: str | None) -> None:
    """Refuse a compressed body (415): the API reads bodies as sent, and a compressed one read as text
    would only fail later as "not UTF-8", without saying why.

    Raises
    ------
    RequestRejectedError
        415 naming the encoding, for anything but none or ``identity``.
    """
    encoding = (value or "").strip().lower()
    if encoding not in ("", "identity"):
        raise RequestRejectedError(
            415,
            f"Content-Encoding {clip(value or '')!r} is not accepted; send the body uncompressed",
        )


def _body_bytes(raw: Any, is_base64: bool) -> bytes:
    if not raw:
        return b""
    text = str(raw)
    if is_base64:
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise RequestRejectedError(400, "body: is not valid base64") from None
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates in the event's own text
        raise RequestRejectedError(
            400, f"body: is not UTF-8 (invalid character at position {exc.start:,}); send UTF-8 JSON"
        ) from None


# -- parsing JSON --------------------------------------------------------------------------------------
def parse_json(text: str) -> Any:
    """Parse a request body with the boundary's rules (``json_reading``).

    Raises
    ------
    RequestRejectedError
        400, naming what makes the body JSON the API does not read.
    """
    try:
        return read_json(text)
    except JsonBodyError as exc:
        raise RequestRejectedError(400, str(exc)) from None


def json_body(text: str) -> Any:
    """The resolver's JSON deserializer: the document ``admit`` parsed, or ``text`` parsed alike."""
    parsed: tuple[str, Any] | None = getattr(_local, "parsed", None)
    if parsed is not None and parsed[0] is text:
        return parsed[1]
    return parse_json(text)


# -- answers -------------------------------------------------------------------------------------------
_LONG_TOKEN = re.compile(rf"\S{{{MAX_ECHO + 1},}}")
_WINDOW = MAX_ECHO + 1
#: Probe every character of short bodies; every _STEP characters of long ones (their echoes are cut
#: once longer than MAX_ECHO + _STEP, and runs without blanks always at MAX_ECHO).
_STEP = 20
_EXACT_BELOW = 200_000


def _clip_echoes(text: str, sent: Sent) -> str:
    # Any run of more than MAX_ECHO non-blank characters is cut (ids, keys, tokens), and so is any
    # longer stretch found in what was sent: what is kept of it is at most MAX_ECHO // 2 + _STEP.
    text = _LONG_TOKEN.sub(lambda m: m.group()[: MAX_ECHO - 40] + ELLIPSIS, text)
    if len(text) <= MAX_ECHO or not sent.texts:
        return text
    step = 1 if sum(len(s) for s in sent.texts) < _EXACT_BELOW else _STEP
    starts = [*range(0, len(text) - MAX_ECHO, step), len(text) - _WINDOW]
    hits: list[tuple[int, int]] = []
    for start in starts:
        window = text[start : start + _WINDOW]
        if any(window in s for s in sent.texts):
            if hits and start <= hits[-1][1]:
                hits[-1] = (hits[-1][0], start + _WINDOW)
            else:
                hits.append((start, start + _WINDOW))
    for start, stop in reversed(hits):
        text = text[: start + MAX_ECHO // 2] + ELLIPSIS + text[stop:]
    return text


def _hide_secrets(text: str, secrets: frozenset[str]) -> str:
    for secret in secrets:
        if secret in text:
            text = re.sub(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])", "****", text)
    return text


def scrub(value: Any, sent: Sent | None = None) -> Any:
    """``value`` (an answer's body) with every string made safe to return to the caller.

    No string repeats more than ``MAX_ECHO`` characters of what was sent, none is longer than
    ``MAX_MESSAGE``, and a value of a sensitive field sent in the request is masked.
    """
    sent = sent if sent is not None else current()
    secrets = sent.secrets()

    def walk(item: Any) -> Any:
        if isinstance(item, str):
            text = _hide_secrets(_clip_echoes(item, sent), secrets) if secrets else _clip_echoes(item, sent)
            return clip(text, MAX_MESSAGE)
        if isinstance(item, dict):
            return {clip(str(k)): walk(v) for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [walk(v) for v in item]
        return item

    return walk(value)


def error_body(message: str, errors: Any = (), **extra: Any) -> dict[str, Any]:
    """The body of every 4xx and 5xx answer: ``{"message", "errors", **extra}``, scrubbed.

    ``errors`` keeps at most ``MAX_ERRORS`` entries (a last one says how many were left out); an error
    without a list of its own lists its message, so a client that reads ``errors`` alone sees why.
    """
    return scrub({"message": message, **extra, "errors": capped(errors, message)})


def capped(errors: Any, message: str) -> list[Any]:
    """``errors`` as an error answer lists them: at most ``MAX_ERRORS`` (a last entry says how many were
    left out), and ``[message]`` when there are none."""
    listed = list(errors) or [message]
    if len(listed) > MAX_ERRORS:
        listed = [*listed[:MAX_ERRORS], f"… and {len(listed) - MAX_ERRORS:,} more"]
    return listed


def proxy_response(status: int, body: Mapping[str, Any], serialize: Callable[[Any], str]) -> dict[str, Any]:
    """A Lambda proxy response (for answers given before or outside the resolver)."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": serialize(body),
        "isBase64Encoded": False,
    }


def _sensitive_values(document: Any) -> Iterator[str]:
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                normalized = str(key).replace("_", "").replace("-", "").lower()
                if normalized in SENSITIVE_FIELDS and isinstance(value, (str, int, Decimal)):
                    text = str(value).strip()
                    if text:
                        yield text
                else:
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
