"""Cancel and retry of an import whose file was dropped in a folder that names no kind: the import exists
(it is listed and read), so both answer as for any finished import rather than "not found"."""

from __future__ import annotations

import pytest
from tests.fakes import ACME, FakeFiles, make_deps

from bulk_import.core.errors import ConflictError, ForbiddenError
from bulk_import.core.ports import Deps
from bulk_import.core.tenants import Principal
from bulk_import.usecases import lifecycle
from bulk_import.usecases.files import handle_drop

DEBTS = b"firstname,lastname,amount,currency,phone\nAda,Lovelace,10,EUR,0612345678\n"


def dropped_in(deps: Deps, folder: str) -> str:
    assert isinstance(deps.files, FakeFiles)
    job = handle_drop(deps, deps.files.add(f"incoming/acme/{folder}/relances.csv", DEBTS))
    assert job is not None and job.status == "FAILED"
    assert lifecycle.import_view(deps, ACME, job.import_id)["kind"] == folder
    return job.import_id


@pytest.mark.parametrize("folder", ["DEBTS", "dettes", "payment"])
def test_an_import_of_a_folder_naming_no_kind_is_finished_for_cancel_and_retry(folder: str) -> None:
    deps = make_deps()
    import_id = dropped_in(deps, folder)
    with pytest.raises(ConflictError, match=f"import {import_id} is FAILED"):
        lifecycle.cancel_import(deps, ACME, import_id)
    with pytest.raises(ConflictError, match="no failed row to retry"):
        lifecycle.retry_import(deps, ACME, import_id)


def test_a_key_that_may_write_no_kind_may_not_cancel_or_retry_it_either() -> None:
    deps = make_deps()
    import_id = dropped_in(deps, "DEBTS")
    reader = Principal("acme", frozenset({"imports:read"}))
    with pytest.raises(ForbiddenError, match="write scope"):
        lifecycle.cancel_import(deps, reader, import_id)
    with pytest.raises(ForbiddenError, match="write scope"):
        lifecycle.retry_import(deps, reader, import_id)
    writer = Principal("acme", frozenset({"payments:write"}))
    with pytest.raises(ConflictError):
        lifecycle.cancel_import(deps, writer, import_id)
