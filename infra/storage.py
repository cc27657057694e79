"""The stores of the stack: tables, queues with their dead-letter queues, and the import bucket.

Table definitions and queue settings come from ``bulk_import.resources``, which the local stack is built from
too, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from bulk_import import resources
from bulk_import.adapters.dynamo_keys import index_projection
from bulk_import.core.tenants import DEFAULT_RETENTION_DAYS
from infra.monitoring import Alarms

#: Object key prefixes of the import bucket (the API's storage layout and the file drops').
PAYLOADS_PREFIX = "payloads/"
CHUNKS_PREFIX = "chunks/"
INCOMING_PREFIX = resources.INCOMING_PREFIX
RESULTS_PREFIX = "results/"
#: Request payloads and chunk bodies only matter while their import runs: kept a week, well under the
#: retention of the rows they produced.
TRANSIENT_OBJECT_DAYS = 7
#: Result files live as long as the default retention of per-row items: the deployment-wide ceiling
#: (a tenant's own ``retentionDays`` applies to its DynamoDB items, not to the bucket).
RESULT_FILE_DAYS = DEFAULT_RETENTION_DAYS
#: Server access logs of the import bucket are kept this long.
ACCESS_LOG_DAYS = 90

#: Context key (``cdk.json`` or ``-c``) listing the browser origins, besides the API's own (the console it
#: serves), that may PUT files to upload URLs.
CORS_ORIGINS_CONTEXT = "corsAllowedOrigins"


def _private_bucket(scope: Construct, construct_id: str, **properties: Any) -> s3.Bucket:
    """A bucket no one reaches but through IAM and TLS, encrypted (SSE-S3: log delivery writes with nothing
    else), owned by the account whoever writes, and kept when the stack is deleted."""
    return s3.Bucket(
        scope,
        construct_id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        encryption=s3.BucketEncryption.S3_MANAGED,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removal_policy=RemovalPolicy.RETAIN,
        **properties,
    )


def table(scope: Construct, spec: resources.TableSpec) -> dynamodb.Table:
    """Create one table from its ``TableSpec``, with a logical id that never changes."""
    created = dynamodb.Table(
        scope,
        spec.logical_id,
        partition_key=dynamodb.Attribute(name=spec.partition_key, type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name=spec.sort_key, type=dynamodb.AttributeType.STRING),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        time_to_live_attribute=spec.ttl_attribute,
        removal_policy=RemovalPolicy.RETAIN,
    )
    for index in spec.indexes:
        # Projected as the readers of the index need (``index_projection``), like the local stack's tables.
        projection, included = index_projection(index.name)
        created.add_global_secondary_index(
            index_name=index.name,
            partition_key=dynamodb.Attribute(name=index.partition_key, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=index.sort_key, type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType(projection),
            non_key_attributes=list(included) or None,
        )
    # Retained tables hold the data: a refactoring that moved the construct must not orphan a table and
    # create an empty one, so the logical id is pinned to the spec's.
    cast(dynamodb.CfnTable, created.node.default_child).override_logical_id(spec.logical_id)
    return created


def queue_with_dlq(
    scope: Construct,
    construct_id: str,
    *,
    alarms: Alarms,
    visibility_timeout: int,
    dlq_visibility_timeout: int,
    max_receive_count: int,
) -> tuple[sqs.Queue, sqs.Queue]:
    """Create a queue and its dead-letter queue, both encrypted and TLS-only, and alarm on the DLQ.

    Both queues have a consumer, so both visibility timeouts are set (in seconds) from their consumer's
    timeout, and both retention periods are stated rather than left to the SQS default.

    Returns
    -------
    tuple of aws_cdk.aws_sqs.Queue
        ``(dead_letter_queue, queue)``.
    """
    # SQS-managed keys, not KMS: S3 event notifications cannot deliver to a queue under the AWS-managed
    # KMS key, and a customer key would need a key policy for S3 for no gain here.
    dlq = sqs.Queue(
        scope,
        f"{construct_id}Dlq",
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        visibility_timeout=Duration.seconds(dlq_visibility_timeout),
        retention_period=Duration.seconds(resources.DLQ_RETENTION_SECONDS),
    )
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        visibility_timeout=Duration.seconds(visibility_timeout),
        retention_period=Duration.seconds(resources.QUEUE_RETENTION_SECONDS),
        dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=max_receive_count),
    )
    # Anything in a DLQ is work that failed for good (rows to mark failed, a file never imported).
    alarms.dead_letter_queue(construct_id, dlq)
    return dlq, queue


def access_logs_bucket(scope: Construct) -> s3.Bucket:
    """Create the bucket that receives the import bucket's server access logs (who read or wrote what)."""
    return _private_bucket(
        scope,
        "AccessLogsBucket",
        lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=Duration.days(ACCESS_LOG_DAYS))],
    )


def import_bucket(scope: Construct, *, logs_bucket: s3.IBucket, file_drop_queue: sqs.IQueue) -> s3.Bucket:
    """Create the import bucket and route file drops (``incoming/``) to the file-drop queue."""
    expiry_rules = [
        s3.LifecycleRule(
            id=f"expire-{prefix.rstrip('/')}",
            prefix=prefix,
            expiration=Duration.days(days),
            # The bucket is versioned: expiry only adds a delete marker, this removes the data.
            noncurrent_version_expiration=Duration.days(1),
        )
        for prefix, days in (
            (PAYLOADS_PREFIX, TRANSIENT_OBJECT_DAYS),
            (CHUNKS_PREFIX, TRANSIENT_OBJECT_DAYS),
            (RESULTS_PREFIX, RESULT_FILE_DAYS),
        )
    ]
    bucket = _private_bucket(
        scope,
        "ImportBucket",
        versioned=True,
        server_access_logs_bucket=logs_bucket,
        server_access_logs_prefix="import-bucket/",
        lifecycle_rules=[
            *expiry_rules,
            s3.LifecycleRule(
                id="housekeeping",
                abort_incomplete_multipart_upload_after=Duration.days(1),
                noncurrent_version_expiration=Duration.days(30),
            ),
        ],
    )
    # Through SQS rather than straight to Lambda: retries with partial batch failures, and a DLQ for files
    # that fail for good, exactly like chunks.
    bucket.add_event_notification(
        s3.EventType.OBJECT_CREATED,
        s3n.SqsDestination(file_drop_queue),
        s3.NotificationKeyFilter(prefix=INCOMING_PREFIX),
    )
    return bucket


def allow_browser_uploads(bucket: s3.Bucket, origins: Sequence[str]) -> None:
    """Let pages of ``origins`` PUT files to presigned upload URLs (the import console).

    The rule only matters to browsers: a presigned URL is the authorization, whatever the origin. Nothing
    else (no GET, no DELETE) is open to pages; result files are downloads, not page fetches.
    """
    bucket.add_cors_rule(
        allowed_methods=[s3.HttpMethods(method) for method in resources.UPLOAD_CORS_METHODS],
        allowed_origins=list(origins),
        allowed_headers=list(resources.UPLOAD_CORS_ALLOWED_HEADERS),
        exposed_headers=list(resources.UPLOAD_CORS_EXPOSED_HEADERS),
        max_age=resources.UPLOAD_CORS_MAX_AGE_SECONDS,
    )


def configured_origins(value: Any) -> list[str]:
    """Read the browser origins allowed to upload from a context value.

    Parameters
    ----------
    value
        A list of origins (``cdk.json``), or one string of comma-separated origins (``-c key=a,b``); ``None``
        when the context does not set it.

    Returns
    -------
    list of str
        The origins, stripped, without blanks, duplicates or a trailing ``/`` (browsers send none).

    Raises
    ------
    ValueError
        For ``*`` (any page on the web could upload) or an origin that is not ``http(s)://host[:port]``.
    """
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    origins: list[str] = []
    for item in items:
        origin = str(item).strip().rstrip("/")
        if not origin:
            continue
        scheme, _, rest = origin.partition("://")
        if scheme not in ("http", "https") or not rest or "/" in rest or "*" in rest:
            raise ValueError(
                f"{CORS_ORIGINS_CONTEXT}: {origin!r} is not an origin like https://console.example.com"
            )
        if origin not in origins:
            origins.append(origin)
    return origins
