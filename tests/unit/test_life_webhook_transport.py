"""A webhook endpoint that answers slowly, a byte at a time: the 10 seconds are for the whole answer."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from bulk_import.adapters.webhook_sender import HttpTransport


@pytest.fixture
def trickling_endpoint() -> Iterator[int]:
    """An endpoint that starts a 200 at once, then sends one header line every 0.3 s for 3 s."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def answer() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            for n in range(10):
                time.sleep(0.3)
                try:
                    conn.sendall(b"X-Slow: %d\r\n" % n)
                except OSError:
                    return
            conn.sendall(b"Content-Length: 0\r\n\r\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    server.close()
    thread.join(timeout=5)


def test_an_answer_that_takes_longer_than_the_timeout_is_a_failed_attempt(trickling_endpoint: int) -> None:
    started = time.monotonic()
    with pytest.raises(OSError):
        HttpTransport().post(f"http://127.0.0.1:{trickling_endpoint}/", "127.0.0.1", b"{}", {}, 1.0)
    assert time.monotonic() - started < 2.0
