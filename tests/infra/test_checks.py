"""The template passes the checks a deployer runs: cfn-lint and cdk-nag's AWS Solutions checks.

Both run on the session's one synth: cdk-nag as a validation plugin of the app (a finding fails the synth),
cfn-lint on the template the synth wrote, as ``make check-template`` does on ``cdk.out``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aws_cdk import Validations

from infra import checks, storage

if TYPE_CHECKING:
    from conftest import Synth

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def test_cfn_lint_finds_no_error_and_no_unexplained_warning(synth: Synth) -> None:
    matches = checks.lint_template(synth.template_json)
    assert not matches, "\n".join(checks.describe(match) for match in matches)


def test_only_warnings_are_explained_away_and_each_with_its_reason() -> None:
    for rule, reason in checks.EXPLAINED_WARNINGS.items():
        assert rule.startswith("W"), f"{rule}: errors are fixed, never ignored"
        assert len(reason) > 40


def test_check_template_fails_on_a_queue_that_hides_messages_from_its_consumer(
    synth: Synth, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The check catches what CloudFormation would refuse: a queue whose visibility is below its consumer's
    timeout (the chunk DLQ left at the SQS default of 30 s, as it once was)."""
    template = synth.template_json
    dlq_id = synth.logical_id(synth.stack.chunk_dlq)
    function_id = synth.logical_id(synth.stack.chunk_dlq_worker)
    # Only the queue, its consumer and their mapping: enough for the rule, and quick to lint.
    kept = {
        logical_id: copy.deepcopy(resource)
        for logical_id, resource in template["Resources"].items()
        if logical_id in (dlq_id, function_id)
        or resource["Properties"].get("FunctionName") == {"Ref": function_id}
    }
    kept[dlq_id]["Properties"]["VisibilityTimeout"] = 30
    broken = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": kept}
    (tmp_path / "BulkImport.template.json").write_text(json.dumps(broken), encoding="utf-8")
    assert checks.main([str(tmp_path)]) == 1
    assert "E3505" in capsys.readouterr().out


def test_check_template_says_to_synthesize_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert checks.main([str(tmp_path)]) == 2
    assert "make synth" in capsys.readouterr().err


def describe_violations(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['severity']} {v['ruleName']}: {c['constructPath']}"
        for v in violations
        for c in v["violatingConstructs"]
    )


def test_cdk_nag_reports_no_unacknowledged_finding(synth: Synth) -> None:
    assert synth.violations == [], describe_violations(synth.violations)


def test_every_acknowledged_nag_finding_says_why(synth: Synth) -> None:
    key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    acknowledged = {
        rule: reason
        for construct in synth.stack.node.find_all()
        for entry in construct.node.metadata
        if entry.type == key
        for rule, reason in entry.data.items()
    }
    assert acknowledged, "the stack acknowledges its nag findings in infra/nag.py"
    for rule, reason in acknowledged.items():
        assert "AwsSolutions-" in rule
        assert len(reason.split()) >= 8, f"{rule}: {reason!r} is not a reason"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ([], []),
        (["https://console.example.com/"], ["https://console.example.com"]),
        (
            "https://a.example.com, http://localhost:3000,,",
            ["https://a.example.com", "http://localhost:3000"],
        ),
        (["https://a.example.com", "https://a.example.com"], ["https://a.example.com"]),
    ],
)
def test_configured_upload_origins_are_read_from_a_list_or_a_comma_separated_string(
    value: Any, expected: list[str]
) -> None:
    assert storage.configured_origins(value) == expected


@pytest.mark.parametrize(
    "value", [["*"], ["https://*.example.com"], ["console.example.com"], "ftp://x.example"]
)
def test_a_wildcard_or_malformed_upload_origin_stops_the_synth(value: Any) -> None:
    with pytest.raises(ValueError, match="corsAllowedOrigins"):
        storage.configured_origins(value)
