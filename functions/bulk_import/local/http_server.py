"""The HTTP side of the local API: framing, timeouts and malformed requests, answered as API Gateway does.

Every request gets an answer in the API's error shape, never a dropped connection or a wait without end:

* a ``Content-Length`` that is not a non-negative integer, or several that disagree: 400;
* a body shorter than its ``Content-Length``: 400 once no byte has come for ``read_timeout`` seconds;
* a body over API Gateway's 10 MB payload limit: 413 ``Request Too Long``, without reading it (what the
  client still sends is then read and thrown away for a while, so that it reads the answer);
* ``Transfer-Encoding: chunked`` bodies are read; a malformed chunk is a 400;
* a request line or headers that HTTP cannot parse: 400 (431 for headers too large).

After a refusal of the framing the connection is closed, since the rest of the stream cannot be trusted.
The port is bound when the server is created and only listens once ``listen`` is called: a client that
waits for the port to accept connections finds the stack ready.
"""

from __future__ import annotations

import contextlib
import socket
import string
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bulk_import.local.gateway import LocalGateway, Request, error_response

#: API Gateway's limit on a REST API request payload.
MAX_BODY_BYTES = 10 * 1024 * 1024
#: Seconds a request body may stall before the request is refused.
READ_TIMEOUT_SECONDS = 5.0
#: Seconds an idle keep-alive connection stays open.
IDLE_TIMEOUT_SECONDS = 60.0
#: After a body refused as too large, how much more of it is read and thrown away, and for how long, so
#: that the client reads the 413 (``_linger``).
LINGER_BYTES = 64 * 1024 * 1024
LINGER_SECONDS = 10.0
_MAX_LINE = 65_536


class FramingError(Exception):
    """A request whose body cannot be read as HTTP frames it: answered with ``status`` and closed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _RequestHandler(BaseHTTPRequestHandler):
    server: LocalHttpServer
    protocol_version = "HTTP/1.1"
    server_version = "bulk-import-local"
    timeout = IDLE_TIMEOUT_SECONDS

    def __getattr__(self, name: str) -> Any:
        # Every method reaches the gateway, which refuses the ones the API does not declare (403).
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def version_string(self) -> str:
        """The ``Server`` header: the local stack, not the Python version."""
        return self.server_version

    def parse_request(self) -> bool:
        """Parse the request line and headers; refuse HTTP/0.9, which has neither status nor headers."""
        if not super().parse_request():
            return False
        if self.request_version == "HTTP/0.9":
            self.send_error(400, "HTTP/0.9 requests are not supported")
            return False
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (request line, headers, HTTP version) in the API's error shape."""
        if not str(self.request_version).startswith("HTTP/1."):
            self.request_version = "HTTP/1.1"  # so the answer has a status line and headers
        short = self.responses.get(code, ("Error", ""))[0]
        self._send(*error_response(code, message or short), close=True)

    def _handle(self) -> None:
        try:
            body = self._read_body()
        except FramingError as exc:
            self._send(*error_response(exc.status, exc.message), close=True)
            if exc.status == 413:
                self._linger()
            return
        parts = urlsplit(self.path)
        if not parts.path.startswith("/"):
            self._send(*error_response(400, "the request target must be a path"), close=True)
            return
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qsl(parts.query, keep_blank_values=True),
            headers=list(self.headers.items()),
            body=body,
            source_ip=str(self.client_address[0]),
        )
        try:
            status, headers, payload = self.server.gateway.invoke(request)
        except Exception:  # the gateway answers its own errors; this only keeps the connection answered
            status, headers, payload = error_response(502, "Internal server error")
        self._send(status, headers, payload)

    # -- body framing --------------------------------------------------------------------------------------

    def handle_expect_100(self) -> bool:
        """Refuse a body that would be refused anyway before the client sends it."""
        try:
            self._framing()
        except FramingError as exc:
            self._send(*error_response(exc.status, exc.message), close=True)
            return False
        return super().handle_expect_100()

    def _framing(self) -> int | None:
        """The body's length from the headers, or None for a chunked body; FramingError when refused."""
        encodings = self.headers.get_all("Transfer-Encoding") or []
        lengths = self.headers.get_all("Content-Length") or []
        if encodings:
            codings = [c.strip().lower() for c in ",".join(encodings).split(",") if c.strip()]
            if lengths:
                raise FramingError(400, "a request cannot have both Transfer-Encoding and Content-Length")
            if codings != ["chunked"]:
                raise FramingError(400, f"unsupported Transfer-Encoding: {', '.join(codings)[:100]}")
            return None
        if not lengths:
            return 0
        values = {v.strip() for v in ",".join(lengths).split(",")}
        if len(values) != 1:
            raise FramingError(400, "the request has several different Content-Length values")
        value = values.pop()
        if not value or not all(c in string.digits for c in value):
            raise FramingError(400, f"Content-Length must be a non-negative integer, not {value[:40]!r}")
        length = int(value)
        if length > MAX_BODY_BYTES:
            raise FramingError(413, "Request Too Long")
        return length

    def _read_body(self) -> bytes:
        length = self._framing()
        return self._read_chunked() if length is None else self._read_exactly(length)

    def _timed(self, read: Any, *args: Any) -> Any:
        self.connection.settimeout(self.server.read_timeout)
        try:
            return read(*args)
        except (TimeoutError, OSError) as exc:
            raise FramingError(
                400,
                f"the request body is incomplete: nothing arrived for {self.server.read_timeout:g} s",
            ) from exc
        finally:
            with contextlib.suppress(OSError):  # a connection already gone has no timeout to restore
                self.connection.settimeout(self.timeout)

    def _read_exactly(self, length: int) -> bytes:
        data = self._timed(self.rfile.read, length) if length else b""
        if len(data) < length:
            raise FramingError(400, f"the request body ended after {len(data)} of {length} bytes")
        return bytes(data)

    def _read_line(self) -> bytes:
        line = bytes(self._timed(self.rfile.readline, _MAX_LINE))
        if not line.endswith(b"\n"):
            raise FramingError(400, "the chunked request body is incomplete")
        return line

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            size_text = self._read_line().split(b";", 1)[0].strip()
            if not size_text or not all(chr(c) in string.hexdigits for c in size_text):
                raise FramingError(400, "malformed chunk size in a chunked request body")
            size = int(size_text, 16)
            if size == 0:
                break
            if len(body) + size > MAX_BODY_BYTES:
                raise FramingError(413, "Request Too Long")
            body += self._read_exactly(size)
            if self._read_line().strip():
                raise FramingError(400, "a chunk of the request body is longer than its size")
        while self._read_line().strip():  # trailer fields, up to the empty line
            pass
        return bytes(body)

    def _linger(self) -> None:
        """Read, and throw away, what the client still sends of a body refused as too large, for a while.

        A client that sends its whole body before it reads the answer (most do, without
        ``Expect: 100-continue``) would otherwise get its connection reset mid-body instead of the 413:
        closing a socket with unread data resets it. Servers call this a lingering close.
        """
        deadline = time.monotonic() + LINGER_SECONDS
        left = LINGER_BYTES
        with contextlib.suppress(OSError, ValueError):
            self.connection.settimeout(self.server.read_timeout)
            while left > 0 and time.monotonic() < deadline:
                data = self.rfile.read1(min(65_536, left))
                if not data:
                    return
                left -= len(data)

    # -- response ------------------------------------------------------------------------------------------

    def _send(self, status: int, headers: dict[str, str], payload: bytes, close: bool = False) -> None:
        if close:
            self.close_connection = True
        try:
            self.send_response(status)
            for k, v in headers.items():
                if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and status >= 200 and status not in (204, 304):
                self.wfile.write(payload)
        except OSError:  # the client went away; nothing left to answer
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the stack prints its own summary."""


class LocalHttpServer(ThreadingHTTPServer):
    """The local API's HTTP server: bound when created, listening from ``listen`` on.

    Parameters
    ----------
    host, port
        Where to bind (port 0: a free one). ``OSError`` when the port is in use.
    read_timeout
        Seconds a request body may stall before the request is refused with 400.
    """

    daemon_threads = True
    gateway: LocalGateway

    def __init__(self, host: str, port: int, read_timeout: float = READ_TIMEOUT_SECONDS) -> None:
        super().__init__((host, port), _RequestHandler, bind_and_activate=False)
        self.read_timeout = read_timeout
        self._thread: threading.Thread | None = None
        try:
            self.server_bind()
        except BaseException:
            self.server_close()
            raise

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self.server_address[1])

    def server_bind(self) -> None:
        """Bind without a reverse lookup of the host name (``HTTPServer`` does one; nothing here reads it)."""
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def listen(self, gateway: LocalGateway) -> None:
        """Start accepting connections and serve ``gateway`` on a daemon thread."""
        self.gateway = gateway
        self.server_activate()
        self._thread = threading.Thread(target=self.serve_forever, name="local-api", daemon=True)
        self._thread.start()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (reset, broken pipe, timed out) is not an error of the stack: nothing is
        printed; anything else is printed as ``socketserver`` does."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def close(self) -> None:
        """Stop serving (if listening) and release the port."""
        if self._thread is not None:
            self.shutdown()
            self._thread = None
        self.server_close()
