"""``bulk-import serve`` run as a person runs it, in a process of its own, for the tests that need one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


class Served:
    """A running ``serve``: what it printed so far (``lines``), read as it comes, so that its output never
    fills the pipe and stops it (a stack that logs a lot while it stops would otherwise hang there)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._ready = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._ready:
                self.lines.append(line)
                self._ready.notify_all()
        with self._ready:
            self._ready.notify_all()

    def printed(self, prefix: str, timeout: float = 60) -> str:
        """The first line it printed that starts with ``prefix``, waiting for it (fails when serve exits
        or says nothing of the kind in time)."""

        def found() -> str | None:
            return next((line for line in self.lines if line.startswith(prefix)), None)

        with self._ready:
            self._ready.wait_for(lambda: found() is not None or not self._reader.is_alive(), timeout=timeout)
            line = found()
        if line is None:
            pytest.fail(f"serve did not print {prefix!r}: {''.join(self.lines)[-3000:]}")
        return line


def _as_a_background_job() -> None:
    # What a shell script's ``cmd &`` does before it runs the command.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def served(*args: str, background_job: bool = False) -> Iterator[Served]:
    """``bulk-import serve ARGS`` until the block ends, then Ctrl-C; it must exit 0 within a minute.
    ``background_job``: started as a shell script's background job is, with Ctrl-C ignored."""
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bulk_import.cli", "serve", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_as_a_background_job if background_job else None,
    )
    running = Served(proc)
    try:
        yield running
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"serve did not stop on Ctrl-C: {''.join(running.lines)[-3000:]}")
    assert proc.returncode == 0, "".join(running.lines)[-3000:]
