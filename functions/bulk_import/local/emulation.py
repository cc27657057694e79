"""moto, the embedded AWS emulation: how it is served, and adjustments that keep it fast and close to AWS.

``start_emulation`` serves moto on a loopback port; ``raw_object_puts`` makes object uploads store the bytes
sent whatever their Content-Type, as S3 does (see there).

moto's SQS costs O(n) per message sent or received on a queue of n messages, with a large constant:

* it reads the clock through ``moto.core.utils.unix_time``, datetime arithmetic costing microseconds a
  read, several times for every message of the queue whenever it counts the visible, in-flight and delayed
  messages it reports as queue attributes, which it does once per message sent;
* to check one received message against the queue's retention period it computes every attribute of the
  queue, those counts included.

A queue holding a thousand messages, as the calls queue does after an import with calls, then costs tens of
milliseconds per message and the calls of one import take minutes to send and read. ``fast_sqs`` gives
moto's SQS the same clock read from ``time.time()`` and a retention check that reads the retention period
alone: the same results, one to two orders of magnitude faster.

moto's backends are not safe to use from several threads at once, and its server runs a thread per
request: a DynamoDB query reading a table while another request writes to it can fail with "dictionary
changed size during iteration", and a conditional write checks its condition and stores the item in two
steps, so two concurrent conditional writes of one key can both succeed. AWS serves each request
atomically; ``SerializedApplication`` does the same by serving one request at a time (see there).
``fast_dynamodb`` (in ``fast_dynamodb.py``) makes a DynamoDB query read only the partition it names.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bulk_import.local.fast_dynamodb import fast_dynamodb


@contextmanager
def fast_sqs() -> Iterator[None]:
    """Within the block, moto's SQS reads the clock from ``time.time()`` and checks retention at O(1)."""
    from moto.sqs import models

    unix_time: Callable[..., float] = models.unix_time
    unix_time_millis: Callable[..., float] = models.unix_time_millis
    retention_check = models.SQSBackend.is_message_valid_based_on_retention_period

    def fast_unix_time(dt: Any = None) -> float:
        # moto's unix_time() is the seconds since the epoch of utcnow(), which is time.time().
        return time.time() if dt is None else unix_time(dt)

    def fast_unix_time_millis(dt: Any = None) -> float:
        return time.time() * 1000.0 if dt is None else unix_time_millis(dt)

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return bool(retention + message.sent_timestamp / 1000 > fast_unix_time())

    models.unix_time = fast_unix_time
    models.unix_time_millis = fast_unix_time_millis
    models.SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]
    try:
        yield
    finally:
        models.unix_time = unix_time
        models.unix_time_millis = unix_time_millis
        models.SQSBackend.is_message_valid_based_on_retention_period = retention_check  # type: ignore[method-assign]


@contextmanager
def raw_object_puts() -> Iterator[None]:
    """Within the block, moto's server stores the bytes of an object PUT whatever its Content-Type (as S3).

    A PUT to a presigned URL carries no ``Authorization`` header, and some clients send a form media type
    with it (Python's ``urllib`` adds ``application/x-www-form-urlencoded`` to any request with a body).
    moto's server then reads the body twice as a form: once to guess the service of an unsigned request,
    decoding it as UTF-8 (bytes that are not UTF-8 are lost there, and the request then waits for a body
    that was already read, until the client gives up), once through werkzeug's form parser, which leaves an
    empty body for the object. No AWS API that the emulation serves sends a form with PUT (query-protocol
    APIs use POST; S3's browser uploads are POST forms), so for PUT neither reading happens: the object
    keeps the bytes sent and the Content-Type it was sent with.
    """
    from moto.moto_server import werkzeug_app

    request_class: Any = werkzeug_app.BackendRequest
    dispatcher: Any = werkzeug_app.DomainDispatcherApplication
    wants_form = request_class.want_form_data_parsed
    get_body = dispatcher._get_body

    def want_form_data_parsed(self: Any) -> bool:
        return self.method != "PUT" and bool(wants_form.__get__(self))

    def _get_body(self: Any, environ: dict[str, Any]) -> str | None:
        return None if environ.get("REQUEST_METHOD") == "PUT" else get_body(self, environ)

    request_class.want_form_data_parsed = property(want_form_data_parsed)
    dispatcher._get_body = _get_body
    try:
        yield
    finally:
        request_class.want_form_data_parsed = wants_form
        dispatcher._get_body = get_body


#: The lock of the serialized application whose request the current thread is serving, if any.
_serving = threading.local()


class SerializedApplication:
    """A WSGI application serving the requests of ``app`` one at a time, so each is atomic, as on AWS.

    The one exception is a long poll: moto's SQS ``ReceiveMessage`` with a wait time waits for a message
    inside the request, and a message can only arrive through another request, so the wait happens
    outside the lock (see ``long_polls_outside``). The rest of the receive runs under it.

    Parameters
    ----------
    app
        The WSGI application to serialize (moto's dispatcher).
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        """Serve one request under the lock, its body read before the next request starts."""
        with self.lock:
            _serving.lock = self.lock
            try:
                body = self.app(environ, start_response)
                try:
                    return list(body)
                finally:
                    close = getattr(body, "close", None)
                    if close is not None:
                        close()
            finally:
                _serving.lock = None


@contextmanager
def waiting_outside() -> Iterator[None]:
    """Within the block, the request this thread serves (if any) lets other requests run."""
    lock: threading.Lock | None = getattr(_serving, "lock", None)
    if lock is not None:
        lock.release()
    try:
        yield
    finally:
        if lock is not None:
            lock.acquire()


def _wait_outside(wait_for_messages: Callable[[Any, int], None]) -> Callable[[Any, int], None]:
    def wait(self: Any, timeout: int) -> None:
        with waiting_outside():
            wait_for_messages(self, timeout)

    wait.outside = True  # type: ignore[attr-defined]
    return wait


@contextmanager
def long_polls_outside() -> Iterator[None]:
    """Within the block, moto's SQS waits for messages without holding the serving lock.

    Blocks may nest and end in any order: the first one in replaces moto's wait, later ones leave it.
    """
    from moto.sqs import models

    wait_for_messages = models.Queue.wait_for_messages
    if getattr(wait_for_messages, "outside", False):
        yield
        return
    models.Queue.wait_for_messages = _wait_outside(wait_for_messages)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        models.Queue.wait_for_messages = wait_for_messages  # type: ignore[method-assign]


def start_emulation(port: int = 0, host: str = "127.0.0.1") -> Any:
    """Start moto's server on ``host:port`` (0: a free port) on a daemon thread and return it.

    The socket is bound here, in the caller's thread, so a port in use raises ``OSError`` (moto's own
    threaded server would report it on its thread and wait forever, werkzeug's would exit the process).
    Its ``server_address`` holds the port it listens on; ``shutdown()`` stops it. It serves one request at
    a time (``SerializedApplication``) and, until ``server_close()``, its DynamoDB queries read the
    partition they name (``fast_dynamodb``).
    """
    import socket
    from contextlib import ExitStack

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        app = SerializedApplication(DomainDispatcherApplication(create_backend_app))
        # werkzeug serves a duplicate of the descriptor; this one can be closed once it has it.
        server = make_server(
            host, port, app, threaded=True, request_handler=MotoRequestHandler, fd=sock.fileno()
        )
    finally:
        sock.close()
    patches = ExitStack()
    patches.enter_context(long_polls_outside())
    patches.enter_context(fast_dynamodb())
    server_close = server.server_close

    def close() -> None:
        try:
            server_close()
        finally:
            patches.close()

    server.server_close = close  # type: ignore[method-assign]
    thread = threading.Thread(target=server.serve_forever, name="aws-emulation", daemon=True)
    thread.start()
    return server
