"""cdk-nag's AWS Solutions checks on the app, and every finding the stack accepts, each with its reason.

``apply_checks`` registers the checks as a validation plugin of the app: a synthesis (``make synth``,
``cdk deploy``, the infra tests) fails on any finding that is not acknowledged here. Acknowledgments are per
finding (``AwsSolutions-IAM5[Resource::...]`` names one wildcard) and on the narrowest construct that has
it, so that a new finding elsewhere still fails the synth.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, App, Stack, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

if TYPE_CHECKING:
    from infra.stack import BulkImportStack

#: The construct id CDK gives its own function that configures bucket notifications (one per stack).
BUCKET_NOTIFICATIONS_HANDLER = "BucketNotificationsHandler050a0587b7544547bf325f094a3db834"

BASIC_EXECUTION_POLICY = (
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]"
)
API_GATEWAY_LOGS_POLICY = (
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
    "AmazonAPIGatewayPushToCloudWatchLogs]"
)

#: What CDK's bucket grants (``grant_read``, ``grant_read_write``) give on one prefix: the families of
#: read and write actions. Each grant of this stack names a single prefix of the import bucket.
BUCKET_GRANT_ACTIONS = ("s3:GetBucket*", "s3:GetObject*", "s3:List*", "s3:Abort*", "s3:DeleteObject*")


def apply_checks(app: App) -> None:
    """Run the AWS Solutions checks on every stack of ``app`` when it is synthesized."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, findings: Iterable[str], reason: str) -> None:
    """Accept ``findings`` (rule ids, with the finding in brackets) on ``scope`` and below, for ``reason``."""
    Validations.of(scope).acknowledge(*(Acknowledgment(id=finding, reason=reason) for finding in findings))


def acknowledge_stack_findings(stack: BulkImportStack) -> None:
    """Acknowledge the findings the bulk-import stack accepts, each where it occurs, with its reason."""
    functions = [
        stack.api_function,
        stack.authorizer_function,
        stack.chunk_worker,
        stack.chunk_dlq_worker,
        stack.file_drop,
        stack.file_drop_dlq_worker,
        stack.sweep,
        stack.workflow_tasks,
    ]
    for function in functions:
        acknowledge(
            function,
            [BASIC_EXECUTION_POLICY],
            "The AWS-managed basic execution policy only lets the function write its own logs; a copy of it "
            "would grant the same.",
        )
        acknowledge(
            function,
            ["AwsSolutions-IAM5[Resource::*]"],
            "X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) has no resource-level "
            "permissions: AWS documents Resource * for it.",
        )
        acknowledge(
            function,
            ["AwsSolutions-L1"],
            "The runtime is pinned to Python 3.12 so that the bundled wheels match it (infra/bundling.py); "
            "moving to a newer runtime changes the runtime, the wheel tags and the tests together.",
        )
    _acknowledge_grants(stack)
    _acknowledge_workflow(stack)
    _acknowledge_api(stack)
    handler = stack.node.try_find_child(BUCKET_NOTIFICATIONS_HANDLER)
    if handler is not None:
        acknowledge(
            handler,
            [BASIC_EXECUTION_POLICY, "AwsSolutions-IAM5[Resource::*]", "AwsSolutions-L1"],
            "CDK's own function that writes the bucket's notification configuration at deploy time; its "
            "role, policy and runtime are CDK's and only run during deployments.",
        )


def _acknowledge_grants(stack: BulkImportStack) -> None:
    """Bucket prefixes: the wildcards of scoped grants (no table has an index, so table grants name
    tables only)."""
    bucket_arn = _logical_id(stack, stack.bucket)
    prefixes = ("payloads", "chunks", "incoming", "results")
    acknowledge(
        stack,
        [f"AwsSolutions-IAM5[Resource::<{bucket_arn}.Arn>/{prefix}/*]" for prefix in prefixes],
        "Objects are named by tenant and import (payloads/{tenant}/{import}/...), known only at run time; "
        "each grant is limited to the one prefix of the import bucket the function works in.",
    )
    acknowledge(
        stack,
        [f"AwsSolutions-IAM5[Action::{action}]" for action in BUCKET_GRANT_ACTIONS],
        "CDK's read and read-write grants of a bucket prefix: the read and write families of actions, on "
        "that prefix's objects only.",
    )


def _acknowledge_workflow(stack: BulkImportStack) -> None:
    """The state machine's role."""
    tasks = _logical_id(stack, stack.workflow_tasks)
    acknowledge(
        stack.state_machine,
        [f"AwsSolutions-IAM5[Resource::<{tasks}.Arn>:*]"],
        "Invoking the task function includes its versions and aliases (CDK's grant_invoke).",
    )
    acknowledge(
        stack.state_machine,
        ["AwsSolutions-IAM5[Resource::*]"],
        "X-Ray tracing and CloudWatch Logs delivery (logs:CreateLogDelivery and related) have no "
        "resource-level permissions.",
    )


def _acknowledge_api(stack: BulkImportStack) -> None:
    """The REST API's authorization, validation and firewall."""
    api = stack.api
    acknowledge(
        api,
        ["AwsSolutions-APIG2"],
        "Requests are proxied to the API function, which checks every request at one boundary (media "
        "type, encoding, depth, shape) and answers in the API's error format; API Gateway models would "
        "duplicate that with another error format.",
    )
    acknowledge(
        api,
        [API_GATEWAY_LOGS_POLICY],
        "The AWS-managed policy of API Gateway's account-level logging role, the role access logs need.",
    )
    acknowledge(
        api,
        ["AwsSolutions-APIG3"],
        "The stage throttles every client; a WAF web ACL (billed per ACL and request) is a deployment "
        "choice, associated with the stage by whoever exposes the API to the internet at large.",
    )
    acknowledge(
        api,
        ["AwsSolutions-COG4"],
        "Callers are tenants with API keys, checked by the key authorizer (a Lambda request authorizer); "
        "there are no user pools.",
    )
    for method in api.methods:
        if method.http_method == "GET" and "authorizer" not in _method_auth(method):
            acknowledge(
                method,
                ["AwsSolutions-APIG4"],
                "Public by design and holding no data: the OpenAPI document, its UI and the import "
                "console's page (the key is typed into the page and sent with each call).",
            )


def _method_auth(method: IConstruct) -> str:
    """``"authorizer"`` when the method goes through an authorizer, ``""`` otherwise."""
    cfn = method.node.default_child
    return "authorizer" if getattr(cfn, "authorizer_id", None) else ""


def _logical_id(stack: Stack, construct: IConstruct) -> str:
    """The logical id of an L2 construct's resource, as cdk-nag names it in findings."""
    return str(stack.resolve(stack.get_logical_id(construct.node.default_child)))  # type: ignore[arg-type]
