"""Webhooks of the stack: the delivery queue and its DLQ, the delivery function, the key that seals secrets.

Every function that can end an import announces it: it reads the tenant's endpoint (config table), writes
the event's mark (imports table) and sends one message to the delivery queue. The delivery function makes
one attempt per message and holds a failed one back for the next delay of the retry schedule (the queue's
visibility timeout as the backoff, so no function waits); after the last attempt the queue moves the
message to its dead-letter queue, which alarms on the stack's alarm topic.

Secrets are encrypted with a customer managed KMS key (rotated yearly) under each tenant's encryption
context: the API encrypts the secret it generated or was given, only the delivery function decrypts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from aws_cdk import CfnOutput, Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from constructs import Construct

from bulk_import.adapters.webhook_sender import (
    WEBHOOK_BATCH_SIZE,
    WEBHOOK_FUNCTION_TIMEOUT_SECONDS,
    WEBHOOK_KEY_ENV,
    WEBHOOK_MAX_RECEIVE_COUNT,
    WEBHOOK_QUEUE_ENV,
    WEBHOOK_VISIBILITY_TIMEOUT_SECONDS,
)
from infra import nag, storage
from infra.functions import FunctionSpec
from infra.monitoring import Alarms
from infra.storage import INCOMING_PREFIX, RESULTS_PREFIX

WEBHOOK_DELIVERY_FUNCTION = FunctionSpec(
    "WebhookDelivery",
    "webhook_delivery",
    512,
    Duration.seconds(WEBHOOK_FUNCTION_TIMEOUT_SECONDS),
    "Delivers signed webhooks of imports that ended, on the retry schedule",
)

MakeFunction = Callable[[FunctionSpec, dict[str, str]], lambda_.Function]


class Webhooks(Construct):
    """The webhook resources, and what the functions that announce and deliver may do.

    Parameters
    ----------
    scope
        The stack.
    construct_id
        The construct id.
    alarms
        The stack's alarms (the dead-letter queue's alarm notifies their topic).
    make_function
        Creates a function of the stack from its spec and environment (the stack's ``_function``).
    environment
        The environment the delivery function starts from (tables, bucket).
    config_table, imports_table, bucket
        Where endpoints, imports and result files are.
    api_function
        Configures endpoints: encrypts their secrets.
    announcers
        The functions that can end an import, so announce it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alarms: Alarms,
        make_function: MakeFunction,
        environment: Mapping[str, str],
        config_table: dynamodb.ITable,
        imports_table: dynamodb.ITable,
        bucket: s3.IBucket,
        api_function: lambda_.Function,
        announcers: Sequence[lambda_.Function],
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "SecretsKey",
            description="Encrypts the signing secrets of tenants' webhook endpoints",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.dlq, self.queue = storage.queue_with_dlq(
            self,
            "WebhookQueue",
            alarms=alarms,
            visibility_timeout=WEBHOOK_VISIBILITY_TIMEOUT_SECONDS,
            dlq_visibility_timeout=WEBHOOK_VISIBILITY_TIMEOUT_SECONDS,
            max_receive_count=WEBHOOK_MAX_RECEIVE_COUNT,
        )
        names = {WEBHOOK_QUEUE_ENV: self.queue.queue_url, WEBHOOK_KEY_ENV: self.key.key_arn}
        self.function = make_function(WEBHOOK_DELIVERY_FUNCTION, {**environment, **names})
        for function in {id(f): f for f in [*announcers, api_function]}.values():
            self._grant_announce(function, names, config_table)
        # Encrypt alone: CDK's grant_encrypt adds ReEncrypt* and GenerateDataKey*, which sealing never uses.
        api_function.add_to_role_policy(
            iam.PolicyStatement(actions=["kms:Encrypt"], resources=[self.key.key_arn])
        )
        self._grant_delivery(config_table, imports_table, bucket)
        nag.acknowledge(
            self.function,
            [nag.BASIC_EXECUTION_POLICY, "AwsSolutions-IAM5[Resource::*]", "AwsSolutions-L1"],
            "As every function of the stack: the managed policy only writes the function's logs, X-Ray has "
            "no resource-level permissions, and the runtime is pinned with the bundled wheels.",
        )
        CfnOutput(scope, "WebhookQueueUrl", value=self.queue.queue_url)
        CfnOutput(scope, "WebhookDlqUrl", value=self.dlq.queue_url)
        CfnOutput(
            scope,
            "WebhookKeyArn",
            value=self.key.key_arn,
            description="Set as WEBHOOK_KEY_ID to load seed files with webhooks (bulk-import seed)",
        )

    def _grant_announce(
        self, function: lambda_.Function, names: Mapping[str, str], config_table: dynamodb.ITable
    ) -> None:
        """A function that ends imports reads endpoints and queues deliveries (its imports table grant
        already covers the marks of announced events)."""
        for name, value in names.items():
            function.add_environment(name, value)
        self.queue.grant_send_messages(function)
        config_table.grant(function, "dynamodb:GetItem")

    def _grant_delivery(
        self, config_table: dynamodb.ITable, imports_table: dynamodb.ITable, bucket: s3.IBucket
    ) -> None:
        """The delivery function reads the endpoint (and disables it on 410 Gone), decrypts its secret,
        reads the import's view (writing its result files if it has none yet, as a read of the view does)
        and holds failed deliveries back."""
        fn = self.function
        config_table.grant(fn, "dynamodb:GetItem", "dynamodb:UpdateItem")
        imports_table.grant_read_write_data(fn)
        bucket.grant_read(fn, f"{INCOMING_PREFIX}*")
        bucket.grant_read_write(fn, f"{RESULTS_PREFIX}*")
        self.key.grant_decrypt(fn)
        # The event source's consume grant includes ChangeMessageVisibility, the backoff.
        fn.add_event_source(
            event_sources.SqsEventSource(
                self.queue, batch_size=WEBHOOK_BATCH_SIZE, report_batch_item_failures=True
            )
        )
