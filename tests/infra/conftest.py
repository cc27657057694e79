"""Shared fixtures of the CDK tests: the stack is synthesized once per test session.

A synth costs about a gigabyte of memory and several seconds (it runs the jsii Node.js process), so every test
reads the same template, and the same synth runs cdk-nag's checks (a validation plugin of the app). Tests
carry ``pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]`` so
that, under ``pytest -n N --dist loadgroup``, they all run in one worker and share that synth.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Before anything imports aws_cdk: jsii warns loudly on Node.js 20, which is what CI machines have.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

REPO_ROOT = Path(__file__).resolve().parents[2]
# `infra` is a top-level package of the repository, not an installed one.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


#: Browser origins the test synth is configured with (context ``corsAllowedOrigins``), as a deployer would.
TEST_ORIGINS = ("https://console.example.com", "http://localhost:3000")


@dataclass(frozen=True)
class Synth:
    """The synthesized stack: its template, and the construct tree to look logical ids up in."""

    template: Any  # aws_cdk.assertions.Template
    stack: Any  # infra.stack.BulkImportStack
    #: The template as written to the cloud assembly; read it rather than ``template.to_json()``, which
    #: crosses to the jsii process and back on every call.
    template_json: dict[str, Any]
    #: The violations the app's validation plugins (cdk-nag) reported, ``[]`` when the synth passed.
    violations: list[dict[str, Any]]

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        """The template's resources by logical id."""
        return dict(self.template_json["Resources"])

    def logical_id(self, construct: Any) -> str:
        """Return the logical id of an L2 construct's CloudFormation resource."""
        return str(self.stack.get_logical_id(construct.node.default_child))

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Return the resources of one CloudFormation type, by logical id."""
        return {key: value for key, value in self.resources.items() if value["Type"] == resource_type}


@pytest.fixture(scope="session")
def synth() -> Iterator[Synth]:
    """Synthesize the app once, without bundling (fast, offline), and share it.

    A synth that cdk-nag fails still writes the template: the other tests read it, and the nag test reports
    the violations.
    """
    from aws_cdk.assertions import Template
    from infra.app import build_app
    from infra.storage import CORS_ORIGINS_CONTEXT

    app, stack = build_app(skip_bundling=True, context={CORS_ORIGINS_CONTEXT: list(TEST_ORIGINS)})
    outdir = Path(app.outdir)
    report = outdir / "validation-report.json"
    try:
        app.synth()
    except Exception:
        if not report.is_file():
            raise
    violations = []
    if report.is_file():
        for plugin in json.loads(report.read_text(encoding="utf-8"))["pluginReports"]:
            violations.extend(plugin.get("violations", []))
    rendered = json.loads((outdir / f"{stack.artifact_id}.template.json").read_text(encoding="utf-8"))
    yield Synth(
        template=Template.from_json(rendered), stack=stack, template_json=rendered, violations=violations
    )
