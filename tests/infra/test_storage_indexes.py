"""The deployed tables' indexes project what the local stack's do: what their readers need."""

from __future__ import annotations

from typing import Any

import pytest
from tests.infra.conftest import Synth

from bulk_import import resources
from bulk_import.local.resources import create_tables, local_names

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


class _Recorder:
    """Stands for a DynamoDB client: keeps what ``create_tables`` asks for."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, Any]] = {}

    def list_tables(self) -> dict[str, Any]:
        return {"TableNames": []}

    def create_table(self, **kwargs: Any) -> None:
        self.tables[kwargs["TableName"]] = kwargs

    def update_time_to_live(self, **kwargs: Any) -> None:
        pass


def local_projections() -> dict[tuple[str, str], dict[str, Any]]:
    names = local_names()
    recorder = _Recorder()
    create_tables(recorder, names)
    return {
        (spec.logical_id, ix["IndexName"]): ix["Projection"]
        for spec in resources.TABLES
        for ix in recorder.tables[names[spec.env_var]].get("GlobalSecondaryIndexes", [])
    }


def test_every_index_projects_in_the_cloud_what_it_projects_locally(synth: Synth) -> None:
    deployed = {
        (spec.logical_id, ix["IndexName"]): ix["Projection"]
        for spec in resources.TABLES
        for ix in synth.resources[spec.logical_id]["Properties"].get("GlobalSecondaryIndexes", [])
    }
    assert deployed == local_projections()
