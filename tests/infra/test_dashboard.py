"""The dashboard: the product's metrics by kind, and the health of the queues, functions and workflow."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from infra.functions import FunctionSpec

from bulk_import.entrypoints import metrics
from infra import functions as infra_functions
from infra import webhooks as infra_webhooks

if TYPE_CHECKING:
    from tests.infra.conftest import Synth

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def _rendered(value: Any) -> str:
    """A dashboard body's text, each reference to a resource written ``<LogicalId>``."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return f"<{value['Fn::GetAtt'][0]}>"
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_rendered(part) for part in parts)
    raise AssertionError(f"unexpected intrinsic in the dashboard body: {value}")


def dashboard(synth: Synth) -> dict[str, Any]:
    """The body of the stack's one dashboard, parsed."""
    (resource,) = synth.of_type("AWS::CloudWatch::Dashboard").values()
    return dict(json.loads(_rendered(resource["Properties"]["DashboardBody"])))


def graphs(synth: Synth) -> dict[str, list[Any]]:
    """Each graph's metrics by its title."""
    return {w["properties"]["title"]: w["properties"]["metrics"] for w in dashboard(synth)["widgets"]}


def test_the_product_metrics_are_graphed_one_line_per_kind(synth: Synth) -> None:
    text = json.dumps(graphs(synth))
    for name in metrics.NAMES:
        search = f"SEARCH('{{{metrics.NAMESPACE},service,kind}} MetricName=\\\"{name}\\\"', 'Sum', 300)"
        assert search in text, name
    assert "tenant" not in text.lower()


def test_the_dead_letter_queues_functions_and_workflow_are_graphed(synth: Synth) -> None:
    by_title = graphs(synth)
    depth = json.dumps(by_title["Dead-letter queue depth"])
    for queue in (synth.stack.chunk_dlq, synth.stack.file_drop_dlq, synth.stack.webhooks.dlq):
        assert f"<{synth.logical_id(queue)}>" in depth
    errors = json.dumps(by_title["Function errors"])
    durations = json.dumps(by_title["Function duration (p99)"])
    for function in synth.stack.functions.values():
        assert f"<{synth.logical_id(function)}>" in errors
        assert f"<{synth.logical_id(function)}>" in durations
    assert set(synth.stack.functions) == {
        spec.construct_id
        for module in (infra_functions, infra_webhooks)
        for spec in vars(module).values()
        if isinstance(spec, FunctionSpec)
    }
    assert "ExecutionsFailed" in json.dumps(by_title["Import workflow executions failed"])


def test_the_stack_outputs_the_dashboard_name(synth: Synth) -> None:
    (logical_id,) = synth.of_type("AWS::CloudWatch::Dashboard")
    assert synth.template_json["Outputs"]["DashboardName"]["Value"] == {"Ref": logical_id}
