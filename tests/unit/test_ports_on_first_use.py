"""Ports built on first use behave as the ports they stand for (``adapters.aws.OnFirstUse``)."""

from __future__ import annotations

import threading
import time
from typing import Any

from bulk_import.adapters.aws import OnFirstUse


class Store:
    def __init__(self) -> None:
        self.seen: list[str] = []
        self.client: Any = "real"

    def note(self, job: str) -> None:
        self.seen.append(job)

    def which_client(self) -> Any:
        return self.client


def test_a_port_is_built_once_however_many_threads_first_use_it_together() -> None:
    builds: list[Store] = []

    def build() -> Store:
        time.sleep(0.05)  # long enough for every thread to arrive while the first builds
        builds.append(Store())
        return builds[-1]

    port = OnFirstUse(build)
    threads = [threading.Thread(target=port.note, args=(f"job-{n}",)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1
    assert sorted(builds[0].seen) == [f"job-{n}" for n in range(8)]


def test_an_attribute_set_on_a_port_is_what_its_methods_then_read() -> None:
    port = OnFirstUse(Store)
    port.client = "fake"
    assert port.which_client() == "fake"


def test_a_port_is_an_instance_of_the_class_it_stands_for() -> None:
    port = OnFirstUse(Store)
    assert isinstance(port, Store)
    assert not isinstance(port, dict)


def test_nothing_is_built_until_the_port_is_used() -> None:
    built: list[int] = []
    port = OnFirstUse(lambda: built.append(1) or Store())
    assert built == []
    port.note("job-1")
    port.note("job-2")
    assert built == [1]


def test_a_method_patched_on_a_port_and_restored_is_the_port_s_own_again(monkeypatch: Any) -> None:
    port = OnFirstUse(Store)
    with monkeypatch.context() as patch:
        patch.setattr(port, "which_client", lambda: "patched")
        assert port.which_client() == "patched"
    assert port.which_client() == "real"
