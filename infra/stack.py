"""The bulk-import stack: tables, bucket, queues, bus, functions, REST API and the import workflow.

Table definitions, queue settings and environment variable names come from ``bulk_import.resources``, the
module the local stack is built from too, so the two cannot drift apart.

Permissions are granted per function, for what its entrypoint does (see ``_grant_*``); the authorizer in
particular only reads the config table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from bulk_import import resources
from infra.bundling import (
    FUNCTIONS_DIR,
    LAMBDA_ARCHITECTURE,
    LAMBDA_RUNTIME,
    bundling_skipped,
    lambda_code,
)

#: The workflow definition, written in Amazon States Language with a ``${WorkflowTasksArn}`` placeholder that
#: CloudFormation substitutes. The local stack executes the same file (``bulk_import.local.workflow``).
WORKFLOW_DEFINITION = FUNCTIONS_DIR / "bulk_import" / "workflow" / "definition.asl.json"

SERVICE_NAME = "bulk-import"
HANDLER_PREFIX = "bulk_import.entrypoints"

#: Object key prefixes of the import bucket (section 6 of the spec and the API's storage layout).
PAYLOADS_PREFIX = "payloads/"
CHUNKS_PREFIX = "chunks/"
INCOMING_PREFIX = resources.INCOMING_PREFIX
RESULTS_PREFIX = "results/"
#: Request payloads and chunk bodies only matter while their import runs.
TRANSIENT_OBJECT_DAYS = 7

#: Lambda consumes an SQS batch within the queue's visibility timeout, or the messages come back while still
#: being processed. A third of it leaves room for a slow batch and for retries after throttling.
CHUNK_WORKER_TIMEOUT = Duration.seconds(resources.CHUNK_VISIBILITY_TIMEOUT_SECONDS // 3)
#: A file drop reads a whole file twice (a survey, then the split; xlsx included), so it gets much more
#: time than a chunk.
FILE_DROP_TIMEOUT = Duration.minutes(5)
#: AWS recommends a visibility timeout of six times the function timeout for SQS event sources.
FILE_DROP_VISIBILITY_TIMEOUT = Duration.seconds(resources.FILE_DROP_VISIBILITY_TIMEOUT_SECONDS)
FILE_DROP_MAX_RECEIVE_COUNT = resources.FILE_DROP_MAX_RECEIVE_COUNT
DLQ_RETENTION = Duration.days(14)

LOG_RETENTION = logs.RetentionDays.ONE_MONTH
#: Steady-state and burst request limits of the API stage, per second, across all clients.
API_THROTTLE_RATE = 100
API_THROTTLE_BURST = 200
API_STAGE = "prod"


@dataclass(frozen=True)
class FunctionSpec:
    """How one Lambda function of the stack is configured.

    Parameters
    ----------
    construct_id
        The construct id, also the name of the function in the console (with a stack prefix).
    module
        The entrypoint module under ``bulk_import.entrypoints``; the handler is its ``handler`` function.
    memory_mb
        Memory, which also sets the CPU share (1769 MB is one full vCPU).
    timeout
        Function timeout.
    description
        What the function does, shown in the console.
    function
        The handler function's name in the module.
    """

    construct_id: str
    module: str
    memory_mb: int
    timeout: Duration
    description: str
    function: str = "handler"

    @property
    def handler(self) -> str:
        """The handler string, ``bulk_import.entrypoints.<module>.<function>``."""
        return f"{HANDLER_PREFIX}.{self.module}.{self.function}"


API_FUNCTION = FunctionSpec("Api", "api", 1769, Duration.seconds(29), "REST API of the bulk-import stack")
AUTHORIZER_FUNCTION = FunctionSpec(
    "Authorizer", "authorizer", 512, Duration.seconds(10), "API key authorizer (reads the config table only)"
)
CHUNK_WORKER_FUNCTION = FunctionSpec(
    "ChunkWorker", "worker", 1024, CHUNK_WORKER_TIMEOUT, "Writes the records of queued import chunks"
)
CHUNK_DLQ_FUNCTION = FunctionSpec(
    "ChunkDlqWorker",
    "worker",
    512,
    CHUNK_WORKER_TIMEOUT,
    "Marks the rows of dead-lettered chunks failed so their import still completes",
    function="dlq_handler",
)
FILE_DROP_FUNCTION = FunctionSpec(
    "FileDrop", "file_drop", 1769, FILE_DROP_TIMEOUT, "Starts an import for each file dropped under incoming/"
)
WORKFLOW_TASKS_FUNCTION = FunctionSpec(
    "WorkflowTasks", "workflow", 1024, Duration.minutes(5), "Task states of the import workflow"
)


class BulkImportStack(Stack):
    """Everything the bulk-import service runs on, in one stack.

    Parameters
    ----------
    scope
        The app (or stage) the stack belongs to.
    construct_id
        The stack id.
    skip_bundling
        ``True`` ships ``functions/`` without dependencies (fast, offline; for tests). ``None`` (default)
        decides from ``CDK_BUNDLING=skip`` or context ``bundling=skip``, and bundles otherwise.
    log_level
        ``POWERTOOLS_LOG_LEVEL`` of every function; ``None`` reads context ``logLevel`` (default ``INFO``).
    **kwargs
        Passed on to ``aws_cdk.Stack`` (``env``, ``description``, ...).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        skip_bundling: bool | None = None,
        log_level: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        if skip_bundling is None:
            skip_bundling = bundling_skipped(self)
        self._code = lambda_code(skip_bundling)
        self._log_level = log_level or str(self.node.try_get_context("logLevel") or "INFO")

        self.tables = {spec.logical_id: self._table(spec) for spec in resources.TABLES}
        self.config_table = self.tables[resources.CONFIG_TABLE.logical_id]
        self.imports_table = self.tables[resources.IMPORTS_TABLE.logical_id]
        self.records_table = self.tables[resources.RECORDS_TABLE.logical_id]

        self.chunk_dlq, self.chunk_queue = self._queue_with_dlq(
            "ChunkQueue",
            visibility_timeout=Duration.seconds(resources.CHUNK_VISIBILITY_TIMEOUT_SECONDS),
            max_receive_count=resources.CHUNK_MAX_RECEIVE_COUNT,
        )
        self.file_drop_dlq, self.file_drop_queue = self._queue_with_dlq(
            "FileDropQueue",
            visibility_timeout=FILE_DROP_VISIBILITY_TIMEOUT,
            max_receive_count=FILE_DROP_MAX_RECEIVE_COUNT,
        )
        self.bucket = self._bucket()
        self.bus = events.EventBus(
            self, "CallsBus", description="CallRequested events of the import workflow"
        )

        # The workflow's task function comes first: the state machine definition names it, and the functions
        # that start executions need the state machine's ARN.
        self.workflow_tasks = self._function(WORKFLOW_TASKS_FUNCTION, self._environment())
        self.state_machine = self._state_machine()
        full_env = self._environment(state_machine=True)
        self.api_function = self._function(API_FUNCTION, full_env)
        # The authorizer only learns where the config table is: it has no business with anything else.
        self.authorizer_function = self._function(AUTHORIZER_FUNCTION, self._environment(config_only=True))
        self.chunk_worker = self._function(CHUNK_WORKER_FUNCTION, full_env)
        self.chunk_dlq_worker = self._function(CHUNK_DLQ_FUNCTION, full_env)
        self.file_drop = self._function(FILE_DROP_FUNCTION, full_env)

        self._grant_api()
        self._grant_authorizer()
        self._grant_chunk_worker()
        self._grant_chunk_dlq_worker()
        self._grant_file_drop()
        self._grant_workflow_tasks()
        self.api = self._rest_api()
        self._outputs()

    # -- stores ---------------------------------------------------------------------------------------------

    def _table(self, spec: resources.TableSpec) -> dynamodb.Table:
        """Create one table from its ``TableSpec``, with a logical id that never changes."""
        table = dynamodb.Table(
            self,
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
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=dynamodb.Attribute(
                    name=index.partition_key, type=dynamodb.AttributeType.STRING
                ),
                sort_key=dynamodb.Attribute(name=index.sort_key, type=dynamodb.AttributeType.STRING),
                projection_type=dynamodb.ProjectionType.ALL,
            )
        # Retained tables hold the data: a refactoring that moved the construct must not orphan a table and
        # create an empty one, so the logical id is pinned to the spec's.
        cast(dynamodb.CfnTable, table.node.default_child).override_logical_id(spec.logical_id)
        return table

    def _queue_with_dlq(
        self, construct_id: str, *, visibility_timeout: Duration, max_receive_count: int
    ) -> tuple[sqs.Queue, sqs.Queue]:
        """Create a queue and its dead-letter queue, both encrypted and TLS-only, and alarm on the DLQ.

        Returns
        -------
        tuple of aws_cdk.aws_sqs.Queue
            ``(dead_letter_queue, queue)``.
        """
        # SQS-managed keys, not KMS: S3 event notifications cannot deliver to a queue under the AWS-managed
        # KMS key, and a customer key would need a key policy for S3 for no gain here.
        dlq = sqs.Queue(
            self,
            f"{construct_id}Dlq",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
        )
        queue = sqs.Queue(
            self,
            construct_id,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=visibility_timeout,
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=max_receive_count),
        )
        # Anything in a DLQ is work that failed for good (rows to mark failed, a file never imported).
        cloudwatch.Alarm(
            self,
            f"{construct_id}DlqAlarm",
            alarm_description=f"Messages are waiting in the dead-letter queue of {construct_id}",
            metric=dlq.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        return dlq, queue

    def _bucket(self) -> s3.Bucket:
        """Create the import bucket and route file drops (``incoming/``) to the file-drop queue."""
        transient_rules = [
            s3.LifecycleRule(
                id=f"expire-{prefix.rstrip('/')}",
                prefix=prefix,
                expiration=Duration.days(TRANSIENT_OBJECT_DAYS),
                # The bucket is versioned: expiry only adds a delete marker, this removes the data.
                noncurrent_version_expiration=Duration.days(1),
            )
            for prefix in (PAYLOADS_PREFIX, CHUNKS_PREFIX)
        ]
        bucket = s3.Bucket(
            self,
            "ImportBucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[
                *transient_rules,
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
            s3n.SqsDestination(self.file_drop_queue),
            s3.NotificationKeyFilter(prefix=INCOMING_PREFIX),
        )
        return bucket

    # -- functions ------------------------------------------------------------------------------------------

    def _environment(self, *, state_machine: bool = False, config_only: bool = False) -> dict[str, str]:
        """Build a function environment from the names in ``bulk_import.resources``.

        Parameters
        ----------
        state_machine
            Add ``STATE_MACHINE_ARN``. The workflow's own task function cannot have it: the definition names
            the function, so the function naming the state machine would be a circular reference.
        config_only
            Name the config table and nothing else (the authorizer).
        """
        env = {
            resources.CONFIG_TABLE.env_var: self.config_table.table_name,
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_LOG_LEVEL": self._log_level,
            "POWERTOOLS_METRICS_NAMESPACE": "BulkImport",
        }
        if config_only:
            return env
        env.update(
            {
                resources.IMPORTS_TABLE.env_var: self.imports_table.table_name,
                resources.RECORDS_TABLE.env_var: self.records_table.table_name,
                resources.BUCKET_ENV: self.bucket.bucket_name,
                resources.CHUNK_QUEUE_ENV: self.chunk_queue.queue_url,
                resources.CHUNK_DLQ_ENV: self.chunk_dlq.queue_url,
                resources.EVENT_BUS_ENV: self.bus.event_bus_name,
            }
        )
        if state_machine:
            env[resources.STATE_MACHINE_ENV] = self.state_machine.state_machine_arn
        return env

    def _function(self, spec: FunctionSpec, environment: dict[str, str]) -> lambda_.Function:
        """Create one function of the stack from the shared code asset."""
        log_group = logs.LogGroup(
            self,
            f"{spec.construct_id}Logs",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        return lambda_.Function(
            self,
            spec.construct_id,
            description=spec.description,
            runtime=LAMBDA_RUNTIME,
            architecture=LAMBDA_ARCHITECTURE,
            code=self._code,
            handler=spec.handler,
            memory_size=spec.memory_mb,
            timeout=spec.timeout,
            environment=environment,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
        )

    def _grant_bucket(
        self, function: lambda_.Function, *, read: tuple[str, ...] = (), read_write: tuple[str, ...] = ()
    ) -> None:
        """Grant object access to the import bucket, prefix by prefix."""
        for prefix in read:
            self.bucket.grant_read(function, f"{prefix}*")
        for prefix in read_write:
            self.bucket.grant_read_write(function, f"{prefix}*")

    def _grant_api(self) -> None:
        """The API writes imports inline or hands them to the queue and the workflow."""
        for table in self.tables.values():
            table.grant_read_write_data(self.api_function)
        # GET /v1/imports/{id} signs download URLs of results/ (a presigned URL carries the signer's rights).
        self._grant_bucket(self.api_function, read_write=(PAYLOADS_PREFIX, CHUNKS_PREFIX, RESULTS_PREFIX))
        # POST /v1/imports/uploads signs upload URLs for incoming/.
        self.bucket.grant_put(self.api_function, f"{INCOMING_PREFIX}*")
        self.chunk_queue.grant_send_messages(self.api_function)
        self.state_machine.grant_start_execution(self.api_function)

    def _grant_authorizer(self) -> None:
        """The authorizer looks up API key hashes: read-only, config table only."""
        self.config_table.grant_read_data(self.authorizer_function)

    def _grant_chunk_worker(self) -> None:
        """Chunk workers validate against the config and write records and import counters."""
        self.config_table.grant_read_data(self.chunk_worker)
        self.imports_table.grant_read_write_data(self.chunk_worker)
        self.records_table.grant_read_write_data(self.chunk_worker)
        self._grant_bucket(self.chunk_worker, read=(PAYLOADS_PREFIX, CHUNKS_PREFIX))
        # Lets the workflow wait on a task token until the last chunk of an import is accounted for.
        self.state_machine.grant_task_response(self.chunk_worker)
        self.chunk_worker.add_event_source(
            event_sources.SqsEventSource(
                self.chunk_queue,
                batch_size=resources.CHUNK_BATCH_SIZE,
                report_batch_item_failures=True,
            )
        )

    def _grant_chunk_dlq_worker(self) -> None:
        """The DLQ consumer records failed rows and counters; it writes no records."""
        fn = self.chunk_dlq_worker
        self.imports_table.grant_read_write_data(fn)
        self.records_table.grant_read_data(fn)
        self.config_table.grant_read_data(fn)
        self._grant_bucket(fn, read=(PAYLOADS_PREFIX, CHUNKS_PREFIX))
        self.state_machine.grant_task_response(fn)
        fn.add_event_source(
            event_sources.SqsEventSource(
                self.chunk_dlq, batch_size=resources.CHUNK_BATCH_SIZE, report_batch_item_failures=True
            )
        )

    def _grant_file_drop(self) -> None:
        """File drops read the file, write the import and its chunks, and start the workflow."""
        self.config_table.grant_read_data(self.file_drop)
        self.imports_table.grant_read_write_data(self.file_drop)
        self.records_table.grant_read_write_data(self.file_drop)
        self._grant_bucket(
            self.file_drop,
            read=(INCOMING_PREFIX,),
            read_write=(PAYLOADS_PREFIX, CHUNKS_PREFIX, RESULTS_PREFIX),
        )
        # The dropped object is tagged with the import it became (``import-id``), for whoever dropped it.
        self.file_drop.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:PutObjectTagging", "s3:PutObjectVersionTagging"],
                resources=[self.bucket.arn_for_objects(f"{INCOMING_PREFIX}*")],
            )
        )
        self.chunk_queue.grant_send_messages(self.file_drop)
        self.state_machine.grant_start_execution(self.file_drop)
        # One file per invocation: a file is a whole import, and a failed one is retried alone anyway.
        self.file_drop.add_event_source(
            event_sources.SqsEventSource(
                self.file_drop_queue,
                batch_size=resources.FILE_DROP_BATCH_SIZE,
                report_batch_item_failures=True,
            )
        )

    def _grant_workflow_tasks(self) -> None:
        """Workflow tasks read stored records, write call batches, publish calls and finalize the import
        (for a file import: read its file again and write summary.json and errors.csv to results/)."""
        self.config_table.grant_read_data(self.workflow_tasks)
        self.imports_table.grant_read_write_data(self.workflow_tasks)
        self.records_table.grant_read_data(self.workflow_tasks)
        self._grant_bucket(
            self.workflow_tasks,
            read=(CHUNKS_PREFIX, INCOMING_PREFIX),
            # The call stage writes each batch's customer keys under payloads/{tenant}/{import}/calls/.
            read_write=(PAYLOADS_PREFIX, RESULTS_PREFIX),
        )
        self.bus.grant_put_events_to(self.workflow_tasks)
        # The insertion stage of a chunked import resumes at once when its chunks were all counted before
        # it waited. Not through grant_task_response: that lands in the role's default policy, which the
        # function depends on, while the state machine depends on the function (its definition names it).
        # A policy of its own breaks the cycle.
        iam.Policy(
            self,
            "WorkflowTasksTaskResponse",
            roles=[cast(iam.IRole, self.workflow_tasks.role)],
            statements=[
                iam.PolicyStatement(
                    actions=["states:SendTaskSuccess", "states:SendTaskFailure"],
                    resources=[self.state_machine.state_machine_arn],
                )
            ],
        )

    # -- workflow -------------------------------------------------------------------------------------------

    def _state_machine(self) -> sfn.StateMachine:
        """Create the import workflow and let it invoke its task function, and nothing else."""
        state_machine = sfn.StateMachine(
            self,
            "ImportWorkflow",
            # Standard, not Express: the insertion stage of a chunked import can wait longer than 5 minutes.
            state_machine_type=sfn.StateMachineType.STANDARD,
            # Deployed as is (an asset of the assembly); the local stack runs the very same file.
            definition_body=sfn.DefinitionBody.from_file(str(WORKFLOW_DEFINITION)),
            definition_substitutions={"WorkflowTasksArn": self.workflow_tasks.function_arn},
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=logs.LogGroup(
                    self, "ImportWorkflowLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
                ),
                level=sfn.LogLevel.ERROR,
                include_execution_data=False,  # execution data holds customers' personal data
            ),
        )
        # A definition read from a file tells CDK nothing about what it calls, so grants are explicit:
        # extend them here when the definition integrates with more services. Every task state invokes the
        # task function (which publishes the calls: state payloads never carry records).
        self.workflow_tasks.grant_invoke(state_machine)
        return state_machine

    # -- API ------------------------------------------------------------------------------------------------

    def _rest_api(self) -> apigw.RestApi:
        """Create the REST API: all routes go to the API function, behind the key authorizer but the docs."""
        access_logs = logs.LogGroup(
            self, "ApiAccessLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
        )
        api = apigw.RestApi(
            self,
            "RestApi",
            description="Bulk import API",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Access logging needs the account-level CloudWatch role of API Gateway; the recommended feature
            # flags stop creating it by default. It is retained on deletion: other APIs of the account use it.
            cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name=API_STAGE,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=_access_log_format(),
                throttling_rate_limit=API_THROTTLE_RATE,
                throttling_burst_limit=API_THROTTLE_BURST,
                tracing_enabled=True,
                metrics_enabled=True,
            ),
        )
        # Keys come in either `Authorization: Bearer` or `X-API-Key`, so no single identity source fits: with
        # none, API Gateway cannot cache, hence TTL 0, and calls the authorizer on every request. A missing or
        # unknown key makes the authorizer raise "Unauthorized", which API Gateway answers with 401.
        authorizer = apigw.RequestAuthorizer(
            self,
            "ApiKeyAuthorizer",
            handler=self.authorizer_function,
            identity_sources=[],
            results_cache_ttl=Duration.seconds(0),
        )
        # CDK renders no identity source as an empty string; leave the property out, as the API documents.
        cast(apigw.CfnAuthorizer, authorizer.node.default_child).add_property_deletion_override(
            "IdentitySource"
        )
        # No test-invoke permissions: they double the function's resource policy for a console feature.
        integration = apigw.LambdaIntegration(self.api_function, proxy=True, allow_test_invoke=False)
        for resource in (api.root, api.root.add_resource("{proxy+}")):
            resource.add_method(
                "ANY", integration, authorizer=authorizer, authorization_type=apigw.AuthorizationType.CUSTOM
            )
        # The OpenAPI document and its UI are public (spec section 2).
        for path in ("openapi.json", "docs"):
            api.root.add_resource(path).add_method(
                "GET", integration, authorization_type=apigw.AuthorizationType.NONE
            )
        return api

    def _outputs(self) -> None:
        """Export what clients, the seed command and operators need."""
        CfnOutput(self, "ApiUrl", value=self.api.url, description="Base URL of the API (with the stage)")
        CfnOutput(self, "ImportBucketName", value=self.bucket.bucket_name)
        for logical_id, table in self.tables.items():
            CfnOutput(self, f"{logical_id}Name", value=table.table_name)
        CfnOutput(self, "ChunkQueueUrl", value=self.chunk_queue.queue_url)
        CfnOutput(self, "ChunkDlqUrl", value=self.chunk_dlq.queue_url)
        CfnOutput(self, "EventBusName", value=self.bus.event_bus_name)
        CfnOutput(self, "StateMachineArn", value=self.state_machine.state_machine_arn)


def _access_log_format() -> apigw.AccessLogFormat:
    """One JSON line per request, with the tenant the authorizer resolved."""
    fields = {
        "requestId": apigw.AccessLogField.context_request_id(),
        "ip": apigw.AccessLogField.context_identity_source_ip(),
        "requestTime": apigw.AccessLogField.context_request_time(),
        "httpMethod": apigw.AccessLogField.context_http_method(),
        "path": apigw.AccessLogField.context_path(),
        "status": apigw.AccessLogField.context_status(),
        "responseLength": apigw.AccessLogField.context_response_length(),
        "integrationLatency": apigw.AccessLogField.context_integration_latency(),
        "authorizerError": apigw.AccessLogField.context_authorizer_error(),
        # Set when the authorizer puts `tenantId` in its context, empty otherwise.
        "tenantId": apigw.AccessLogField.context_authorizer("tenantId"),
    }
    body = ",".join(f'"{name}":"{value}"' for name, value in fields.items())
    return apigw.AccessLogFormat.custom("{" + body + "}")
