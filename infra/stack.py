"""The bulk-import stack: tables, bucket, queues, bus, functions, REST API, the import workflow and alarms.

Table definitions, queue settings and environment variable names come from ``bulk_import.resources``, the
module the local stack is built from too, so the two cannot drift apart. The stores are built in
``infra.storage``, the API in ``infra.api``, the alarms in ``infra.monitoring``, the dashboard in
``infra.dashboard``; the functions' sizes and timeouts are in ``infra.functions``.

Permissions are granted per function, for what its entrypoint does (see ``_grant_*``); the authorizer in
particular only reads the config table.
"""

from __future__ import annotations

from typing import Any, cast

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from bulk_import import resources
from infra import storage
from infra.api import api_origin, build_rest_api
from infra.bundling import (
    FUNCTIONS_DIR,
    LAMBDA_ARCHITECTURE,
    LAMBDA_RUNTIME,
    bundling_skipped,
    lambda_code,
)
from infra.dashboard import Dashboard
from infra.functions import (
    API_FUNCTION,
    AUTHORIZER_FUNCTION,
    CHUNK_DLQ_FUNCTION,
    CHUNK_WORKER_FUNCTION,
    FILE_DROP_DLQ_FUNCTION,
    FILE_DROP_FUNCTION,
    SWEEP_FUNCTION,
    WORKFLOW_TASKS_FUNCTION,
    FunctionSpec,
)
from infra.monitoring import Alarms
from infra.storage import CHUNKS_PREFIX, INCOMING_PREFIX, PAYLOADS_PREFIX, RESULTS_PREFIX
from infra.webhooks import Webhooks

#: The workflow definition, written in Amazon States Language with a ``${WorkflowTasksArn}`` placeholder that
#: CloudFormation substitutes. The local stack executes the same file (``bulk_import.local.workflow``).
WORKFLOW_DEFINITION = FUNCTIONS_DIR / "bulk_import" / "workflow" / "definition.asl.json"

SERVICE_NAME = "bulk-import"

LOG_RETENTION = logs.RetentionDays.ONE_MONTH


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
        self.alarms = Alarms(self, "Alarms")
        self.functions: dict[str, lambda_.Function] = {}

        self.tables = {spec.logical_id: storage.table(self, spec) for spec in resources.TABLES}
        self.config_table = self.tables[resources.CONFIG_TABLE.logical_id]
        self.imports_table = self.tables[resources.IMPORTS_TABLE.logical_id]
        self.records_table = self.tables[resources.RECORDS_TABLE.logical_id]

        self.chunk_dlq, self.chunk_queue = storage.queue_with_dlq(
            self,
            "ChunkQueue",
            alarms=self.alarms,
            visibility_timeout=resources.CHUNK_VISIBILITY_TIMEOUT_SECONDS,
            dlq_visibility_timeout=resources.CHUNK_DLQ_VISIBILITY_TIMEOUT_SECONDS,
            max_receive_count=resources.CHUNK_MAX_RECEIVE_COUNT,
        )
        self.file_drop_dlq, self.file_drop_queue = storage.queue_with_dlq(
            self,
            "FileDropQueue",
            alarms=self.alarms,
            visibility_timeout=resources.FILE_DROP_VISIBILITY_TIMEOUT_SECONDS,
            dlq_visibility_timeout=resources.FILE_DROP_DLQ_VISIBILITY_TIMEOUT_SECONDS,
            max_receive_count=resources.FILE_DROP_MAX_RECEIVE_COUNT,
        )
        self.access_logs_bucket = storage.access_logs_bucket(self)
        self.bucket = storage.import_bucket(
            self, logs_bucket=self.access_logs_bucket, file_drop_queue=self.file_drop_queue
        )
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
        self.file_drop_dlq_worker = self._function(FILE_DROP_DLQ_FUNCTION, full_env)
        self.sweep = self._function(SWEEP_FUNCTION, full_env)

        self._grant_api()
        self._grant_authorizer()
        self._grant_chunk_worker()
        self._grant_chunk_dlq_worker()
        self._grant_file_drop()
        self._grant_file_drop_dlq_worker()
        self._grant_sweep()
        self._grant_workflow_tasks()
        self.webhooks = Webhooks(
            self,
            "Webhooks",
            alarms=self.alarms,
            make_function=self._function,
            environment=self._environment(),
            config_table=self.config_table,
            imports_table=self.imports_table,
            bucket=self.bucket,
            api_function=self.api_function,
            announcers=[
                self.chunk_worker,
                self.chunk_dlq_worker,
                self.file_drop,
                self.file_drop_dlq_worker,
                self.sweep,
                self.workflow_tasks,
            ],
        )
        self.api, self.authorizer = build_rest_api(
            self, api_function=self.api_function, authorizer_function=self.authorizer_function
        )
        # The console the API serves uploads from the API's own origin; more origins come from the context.
        self.cors_origins = [
            api_origin(self.api),
            *storage.configured_origins(self.node.try_get_context(storage.CORS_ORIGINS_CONTEXT)),
        ]
        storage.allow_browser_uploads(self.bucket, self.cors_origins)
        self.alarms.workflow_failures("ImportWorkflow", self.state_machine)
        self.dashboard = Dashboard(
            self,
            "Dashboard",
            functions=self.functions,
            dead_letter_queues={
                "Chunks": self.chunk_dlq,
                "FileDrops": self.file_drop_dlq,
                "Webhooks": self.webhooks.dlq,
            },
            state_machine=self.state_machine,
        ).dashboard
        self._outputs()

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
        function = lambda_.Function(
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
        self.alarms.function_errors(spec.construct_id, function)
        self.functions[spec.construct_id] = function
        return function

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

    def _grant_file_drop_dlq_worker(self) -> None:
        """The file-drop DLQ consumer fails the file's import: it looks the file and the tenant up, records
        the import and its summary, and tags the file. No records, no chunks, no workflow."""
        fn = self.file_drop_dlq_worker
        self.config_table.grant_read_data(fn)
        self.imports_table.grant_read_write_data(fn)
        self._grant_bucket(fn, read=(INCOMING_PREFIX,), read_write=(RESULTS_PREFIX,))
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["s3:PutObjectTagging", "s3:PutObjectVersionTagging"],
                resources=[self.bucket.arn_for_objects(f"{INCOMING_PREFIX}*")],
            )
        )
        fn.add_event_source(
            event_sources.SqsEventSource(
                self.file_drop_dlq,
                batch_size=resources.FILE_DROP_DLQ_BATCH_SIZE,
                report_batch_item_failures=True,
            )
        )

    def _grant_sweep(self) -> None:
        """The sweep finds uploads whose file never arrived and fails their imports (in the imports table),
        each with a ``summary.json`` under ``results/`` that says so."""
        self.imports_table.grant_read_write_data(self.sweep)
        self.bucket.grant_put(self.sweep, f"{RESULTS_PREFIX}*")
        events.Rule(
            self,
            "SweepSchedule",
            description="Fails the imports of uploads whose file never arrived",
            schedule=events.Schedule.rate(Duration.minutes(resources.SWEEP_INTERVAL_MINUTES)),
            # A missed run is caught up by the next one: the sweep looks at every overdue upload each time.
            targets=[targets.LambdaFunction(self.sweep, retry_attempts=2)],
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
                # Every state transition, so a failed import's path through the workflow can be read back;
                # without execution data, which holds customers' personal data.
                level=sfn.LogLevel.ALL,
                include_execution_data=False,
            ),
        )
        # A definition read from a file tells CDK nothing about what it calls, so grants are explicit:
        # extend them here when the definition integrates with more services. Every task state invokes the
        # task function (which publishes the calls: state payloads never carry records).
        self.workflow_tasks.grant_invoke(state_machine)
        return state_machine

    # -- API ------------------------------------------------------------------------------------------------

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
        CfnOutput(self, "FileDropDlqUrl", value=self.file_drop_dlq.queue_url)
        CfnOutput(self, "DashboardName", value=self.dashboard.dashboard_name)
        CfnOutput(
            self,
            "AlarmTopicArn",
            value=self.alarms.topic.topic_arn,
            description="SNS topic every alarm notifies: subscribe to it after deploying",
        )
