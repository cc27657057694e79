"""The one description of the stack's stores, shared by the CDK app and the local stack.

Both ``infra/`` and ``bulk_import.local`` build their tables, queues and buckets from these
definitions, so the local stack cannot drift from what is deployed. Pure data: no boto3 here.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class IndexSpec:
    """A global secondary index with string keys, projecting all attributes."""

    name: str
    partition_key: str
    sort_key: str


@dataclass(frozen=True)
class TableSpec:
    """A DynamoDB table with string ``pk``/``sk`` keys and on-demand billing."""

    logical_id: str
    env_var: str
    partition_key: str = "pk"
    sort_key: str = "sk"
    indexes: tuple[IndexSpec, ...] = field(default_factory=tuple)
    ttl_attribute: str | None = None


#: Tenants, API key hashes and per-tenant configuration (campaigns, timelines, contacts, LMS records).
CONFIG_TABLE = TableSpec(logical_id="ConfigTable", env_var="CONFIG_TABLE")

#: Import jobs, their counters, per-row results and errors, and chunk markers.
IMPORTS_TABLE = TableSpec(logical_id="ImportsTable", env_var="IMPORTS_TABLE", ttl_attribute="expiresAt")

#: The imported records themselves, without an index: the call stage reads the records an import wrote
#: from the import's call lists, in the imports table.
RECORDS_TABLE = TableSpec(logical_id="RecordsTable", env_var="RECORDS_TABLE")

TABLES: tuple[TableSpec, ...] = (CONFIG_TABLE, IMPORTS_TABLE, RECORDS_TABLE)

#: Environment variable naming the bucket for request payloads, chunk bodies, file drops and results.
BUCKET_ENV = "IMPORT_BUCKET"
#: Environment variables naming the chunk queue and its dead-letter queue.
CHUNK_QUEUE_ENV = "CHUNK_QUEUE_URL"
CHUNK_DLQ_ENV = "CHUNK_DLQ_URL"
#: Environment variable naming the EventBridge bus that receives ``CallRequested`` events.
EVENT_BUS_ENV = "EVENT_BUS_NAME"
#: Environment variable naming the import workflow state machine.
STATE_MACHINE_ENV = "STATE_MACHINE_ARN"

#: AWS's guidance for SQS event sources: a queue's visibility timeout at least six times its consumer
#: function's timeout, so that a batch still being retried after throttling is not delivered twice.
VISIBILITY_TIMEOUT_FACTOR = 6
#: How long a queue keeps a message nobody took (the SQS default, stated), and a dead-letter queue keeps
#: one (the SQS maximum: time for an operator to look at it).
QUEUE_RETENTION_SECONDS = 4 * 24 * 3600
DLQ_RETENTION_SECONDS = 14 * 24 * 3600

#: SQS settings shared by the cloud event source mapping and the local poller.
CHUNK_BATCH_SIZE = 5
CHUNK_WORKER_TIMEOUT_SECONDS = 60
CHUNK_VISIBILITY_TIMEOUT_SECONDS = VISIBILITY_TIMEOUT_FACTOR * CHUNK_WORKER_TIMEOUT_SECONDS
CHUNK_MAX_RECEIVE_COUNT = 5
#: The consumer of the chunk dead-letter queue (marks a dead chunk's rows failed) and its queue's timeout.
CHUNK_DLQ_WORKER_TIMEOUT_SECONDS = 60
CHUNK_DLQ_VISIBILITY_TIMEOUT_SECONDS = VISIBILITY_TIMEOUT_FACTOR * CHUNK_DLQ_WORKER_TIMEOUT_SECONDS

#: The file-drop queue (S3 notifications of ``incoming/``), shared by the cloud event source mapping and
#: the local poller: one file per invocation, retried alone, dead-lettered after a few receives.
FILE_DROP_BATCH_SIZE = 1
#: A file drop reads a whole file twice (a survey, then the split; xlsx included).
FILE_DROP_TIMEOUT_SECONDS = 5 * 60
FILE_DROP_VISIBILITY_TIMEOUT_SECONDS = VISIBILITY_TIMEOUT_FACTOR * FILE_DROP_TIMEOUT_SECONDS
FILE_DROP_MAX_RECEIVE_COUNT = 3
#: The consumer of the file-drop dead-letter queue (fails the import of a file whose retries ran out):
#: one file per invocation, like the file-drop queue.
FILE_DROP_DLQ_BATCH_SIZE = 1
FILE_DROP_DLQ_TIMEOUT_SECONDS = 60
FILE_DROP_DLQ_VISIBILITY_TIMEOUT_SECONDS = VISIBILITY_TIMEOUT_FACTOR * FILE_DROP_DLQ_TIMEOUT_SECONDS
#: Key of the local stack's file-drop queue URL among its resource names (no function reads it: S3
#: delivers to the queue, the queue to the function).
FILE_DROP_QUEUE_ENV = "FILE_DROP_QUEUE_URL"
FILE_DROP_DLQ_ENV = "FILE_DROP_DLQ_URL"
#: Object key prefix of dropped files: ``incoming/{tenantId}/{kind}/{name}``.
INCOMING_PREFIX = "incoming/"

#: The sweep that fails uploads whose file never arrived runs this often (minutes).
SWEEP_INTERVAL_MINUTES = 60

#: The bucket's CORS rule for browser uploads to presigned URLs (the import console): ``PUT`` only, with what
#: a browser sends for it (the file's type, an optional checksum, and the ``x-amz-*`` headers of the S3 API
#: a client may add to the signed request), exposing the stored object's ETag and version to the page. The
#: allowed origins are the deployment's: the API's own, where the console is served, plus configured ones.
UPLOAD_CORS_METHODS = ("PUT",)
UPLOAD_CORS_ALLOWED_HEADERS = ("Content-Type", "Content-MD5", "x-amz-*")
UPLOAD_CORS_EXPOSED_HEADERS = ("ETag", "x-amz-version-id")
UPLOAD_CORS_MAX_AGE_SECONDS = 3000
