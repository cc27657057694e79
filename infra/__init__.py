"""CDK app for the bulk-import stack.

``infra.app`` is the entry point (``cdk.json`` runs ``python -m infra.app``), ``infra.stack`` defines the one
stack, and ``infra.bundling`` builds the Lambda code asset without Docker.
"""
