"""Entry point of the CDK app: ``cdk.json`` runs ``.venv/bin/python -m infra.app``.

Usage, from the repository root (the CLI release must be recent enough for aws-cdk-lib 2.275)::

    JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 npx --yes aws-cdk@2.1148.1 synth
    JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 npx --yes aws-cdk@2.1148.1 deploy

Add ``-c bundling=skip`` (or set ``CDK_BUNDLING=skip``) to synthesize without bundling the dependencies.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment, Stack, Tags

from infra.nag import acknowledge_stack_findings, apply_checks
from infra.stack import BulkImportStack

CDK_JSON = Path(__file__).resolve().parents[1] / "cdk.json"
STACK_ID = "BulkImport"


def cdk_json_context(path: Path = CDK_JSON) -> dict[str, Any]:
    """Return the ``context`` block of ``cdk.json`` (feature flags and app settings).

    The CDK CLI hands that block to the app; an app built in-process (tests) reads it here, so both synthesize
    with the same feature flags. Values given by the CLI take precedence over these.
    """
    if not path.is_file():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")).get("context", {}))


def build_app(skip_bundling: bool | None = None, context: dict[str, Any] | None = None) -> tuple[App, Stack]:
    """Build the app and its one stack, without synthesizing.

    Parameters
    ----------
    skip_bundling
        ``True`` ships ``functions/`` without its dependencies (fast and offline: tests). ``None`` decides
        from ``CDK_BUNDLING=skip`` or context ``bundling=skip`` and bundles otherwise.
    context
        Context values over those of ``cdk.json`` (``-c`` on the command line does the same).

    Returns
    -------
    tuple
        The app and the ``BulkImportStack``. ``app.synth()`` synthesizes it and runs cdk-nag's checks, which
        fail the synth on any finding not acknowledged in ``infra/nag.py``.
    """
    app = App(context={**cdk_json_context(), **(context or {})})
    # Set by the CDK CLI from the credentials in use; without them the template is environment-agnostic.
    env = Environment(
        account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
        region=os.environ.get("CDK_DEFAULT_REGION"),
    )
    stack = BulkImportStack(
        app,
        STACK_ID,
        env=env,
        skip_bundling=skip_bundling,
        description="Bulk import of customers, debts and payment instructions",
    )
    Tags.of(app).add("project", "bulk-import")
    apply_checks(app)
    acknowledge_stack_findings(stack)
    return app, stack


def main() -> None:
    """Synthesize the app into ``cdk.out`` (what the CDK CLI runs)."""
    app, _ = build_app()
    app.synth()


if __name__ == "__main__":
    main()
