"""Clients that hang up mid-request: the local HTTP server carries on without printing a traceback."""

from __future__ import annotations

import socket
import struct
import time
from typing import Any

import pytest

from bulk_import.local.gateway import LocalGateway
from bulk_import.local.http_server import LocalHttpServer


def _never(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise AssertionError("no request reaches the handlers")


def test_a_client_that_resets_its_connection_leaves_no_traceback(capfd: pytest.CaptureFixture[str]) -> None:
    server = LocalHttpServer("127.0.0.1", 0)
    server.listen(LocalGateway(api=_never, authorizer=_never, public_paths=frozenset()))
    try:
        for _ in range(3):
            client = socket.create_connection(("127.0.0.1", server.port))
            client.sendall(b"POST /customers HTTP/1.1\r\nHost: x\r\n")
            # SO_LINGER with a zero timeout: close sends a reset instead of a clean end of stream.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()
        time.sleep(0.5)
        with socket.create_connection(("127.0.0.1", server.port)) as client:
            client.sendall(b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert client.recv(100).startswith(b"HTTP/1.1 403")
    finally:
        server.close()
    assert "Traceback" not in capfd.readouterr().err
