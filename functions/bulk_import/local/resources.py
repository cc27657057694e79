"""Creates the stack's tables, bucket, queues, bus and workflow in an emulated account (``resources.py``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bulk_import import resources
from bulk_import.adapters.dynamo_keys import index_projection
from bulk_import.local.workflow import create_state_machine

PREFIX = "bulk-import"


def local_names(prefix: str = PREFIX) -> dict[str, str]:
    """Environment variable -> resource name for the local stack (queue URLs are filled in later)."""
    names = {
        spec.env_var: f"{prefix}-{spec.logical_id.removesuffix('Table').lower()}" for spec in resources.TABLES
    }
    names[resources.BUCKET_ENV] = f"{prefix}-imports"
    names[resources.EVENT_BUS_ENV] = f"{prefix}-calls"
    return names


def create_tables(ddb: Any, names: dict[str, str]) -> None:
    """Create every table exactly as the CDK app declares it (keys, indexes, TTL)."""
    existing = set(ddb.list_tables().get("TableNames", []))
    for spec in resources.TABLES:
        name = names[spec.env_var]
        if name in existing:
            continue
        attrs = {spec.partition_key, spec.sort_key}
        kwargs: dict[str, Any] = {
            "TableName": name,
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [
                {"AttributeName": spec.partition_key, "KeyType": "HASH"},
                {"AttributeName": spec.sort_key, "KeyType": "RANGE"},
            ],
        }
        if spec.indexes:
            kwargs["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": ix.name,
                    "KeySchema": [
                        {"AttributeName": ix.partition_key, "KeyType": "HASH"},
                        {"AttributeName": ix.sort_key, "KeyType": "RANGE"},
                    ],
                    "Projection": _projection(ix.name),
                }
                for ix in spec.indexes
            ]
            for ix in spec.indexes:
                attrs |= {ix.partition_key, ix.sort_key}
        kwargs["AttributeDefinitions"] = [{"AttributeName": a, "AttributeType": "S"} for a in sorted(attrs)]
        ddb.create_table(**kwargs)
        if spec.ttl_attribute:
            ddb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute}
            )


def _projection(index: str) -> dict[str, Any]:
    projection, included = index_projection(index)
    return {"ProjectionType": projection, **({"NonKeyAttributes": list(included)} if included else {})}


def upload_cors(origins: Sequence[str]) -> dict[str, Any]:
    """The bucket's CORS rule for browser uploads to presigned URLs, as the CDK app declares it.

    ``PUT`` only, from ``origins`` (the API's own, where the import console is served, and configured ones).
    """
    return {
        "CORSRules": [
            {
                "AllowedMethods": list(resources.UPLOAD_CORS_METHODS),
                "AllowedOrigins": list(dict.fromkeys(origins)),
                "AllowedHeaders": list(resources.UPLOAD_CORS_ALLOWED_HEADERS),
                "ExposeHeaders": list(resources.UPLOAD_CORS_EXPOSED_HEADERS),
                "MaxAgeSeconds": resources.UPLOAD_CORS_MAX_AGE_SECONDS,
            }
        ]
    }


def _dead_letter_queue(sqs: Any, name: str, visibility_timeout: int) -> tuple[str, str]:
    """Create a dead-letter queue (its consumer's visibility timeout, the long retention); URL and ARN."""
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(visibility_timeout),
            "MessageRetentionPeriod": str(resources.DLQ_RETENTION_SECONDS),
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return str(url), str(arn)


def create_all(
    session: Any, names: dict[str, str], region: str, cors_origins: Sequence[str] = ()
) -> dict[str, str]:
    """Create tables, the import bucket (with its CORS rule for browser uploads from ``cors_origins``), the
    chunk queue with its DLQ, the file-drop queue (notified by the bucket) with its DLQ, the calls bus and
    the workflow.

    Returns
    -------
    dict[str, str]
        ``names`` completed with the queue URLs and the state machine's ARN.
    """
    names = dict(names)
    create_tables(session.client("dynamodb", region_name=region), names)
    s3 = session.client("s3", region_name=region)
    bucket = names[resources.BUCKET_ENV]
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    if cors_origins:  # a rule lists at least one origin
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=upload_cors(cors_origins))
    sqs = session.client("sqs", region_name=region)
    dlq_url, dlq_arn = _dead_letter_queue(
        sqs, f"{PREFIX}-chunks-dlq", resources.CHUNK_DLQ_VISIBILITY_TIMEOUT_SECONDS
    )
    queue_url = sqs.create_queue(
        QueueName=f"{PREFIX}-chunks",
        Attributes={
            "VisibilityTimeout": str(resources.CHUNK_VISIBILITY_TIMEOUT_SECONDS),
            "MessageRetentionPeriod": str(resources.QUEUE_RETENTION_SECONDS),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(resources.CHUNK_MAX_RECEIVE_COUNT)}
            ),
        },
    )["QueueUrl"]
    names[resources.CHUNK_QUEUE_ENV] = queue_url
    names[resources.CHUNK_DLQ_ENV] = dlq_url
    names.update(create_file_drops(sqs, s3, bucket))
    events = session.client("events", region_name=region)
    bus = names[resources.EVENT_BUS_ENV]
    if bus not in {b["Name"] for b in events.list_event_buses().get("EventBuses", [])}:
        events.create_event_bus(Name=bus)
    names[resources.STATE_MACHINE_ENV] = create_state_machine(session, region)
    return names


def create_file_drops(sqs: Any, s3: Any, bucket: str) -> dict[str, str]:
    """The file-drop queue and its DLQ, and the bucket's notification of ``incoming/`` to the queue.

    As the CDK app declares them: S3 notifies the queue of every object created under ``incoming/``.
    Returns the queues' URLs under ``FILE_DROP_QUEUE_ENV`` and ``FILE_DROP_DLQ_ENV``.
    """
    dlq_url, dlq_arn = _dead_letter_queue(
        sqs, f"{PREFIX}-file-drops-dlq", resources.FILE_DROP_DLQ_VISIBILITY_TIMEOUT_SECONDS
    )
    url = sqs.create_queue(
        QueueName=f"{PREFIX}-file-drops",
        Attributes={
            "VisibilityTimeout": str(resources.FILE_DROP_VISIBILITY_TIMEOUT_SECONDS),
            "MessageRetentionPeriod": str(resources.QUEUE_RETENTION_SECONDS),
            "RedrivePolicy": json.dumps(
                {
                    "deadLetterTargetArn": dlq_arn,
                    "maxReceiveCount": str(resources.FILE_DROP_MAX_RECEIVE_COUNT),
                }
            ),
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {
                        "Key": {"FilterRules": [{"Name": "prefix", "Value": resources.INCOMING_PREFIX}]}
                    },
                }
            ]
        },
    )
    return {resources.FILE_DROP_QUEUE_ENV: str(url), resources.FILE_DROP_DLQ_ENV: str(dlq_url)}


#: What the calls bus delivers to the local calls queue: every ``CallRequested`` event of the stack.
CALLS_PATTERN = {"source": ["bulk-import"], "detail-type": ["CallRequested"]}


def create_calls_queue(session: Any, bus: str, region: str, name: str = f"{PREFIX}-calls-requested") -> str:
    """A queue that a rule on the calls bus feeds with every ``CallRequested`` event; return its URL.

    Not part of the deployed stack (the dialer that consumes the events is someone else's): locally it
    stands in for it, so the demo and the tests can read what the workflow published.
    """
    sqs = session.client("sqs", region_name=region)
    url = sqs.create_queue(
        QueueName=name, Attributes={"MessageRetentionPeriod": str(resources.QUEUE_RETENTION_SECONDS)}
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = session.client("events", region_name=region)
    rule = f"{name}-rule"
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(CALLS_PATTERN), State="ENABLED")
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "calls-queue", "Arn": arn}])
    return str(url)
