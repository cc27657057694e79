"""CDK app for the bulk-import stack.

``infra.app`` is the entry point (``cdk.json`` runs ``python -m infra.app``), ``infra.stack`` defines the one
stack, and ``infra.bundling`` builds the Lambda code asset without Docker. ``infra.nag`` runs cdk-nag's
checks on every synth and holds the findings the stack accepts; ``infra.checks`` runs cfn-lint on a
synthesized template (``make check-template``).
"""
