"""What the synthesized template must guarantee: data safety, delivery, least privilege, routes.

Assertions target the properties and policies that matter, never resource counts, so that adding a resource
does not break them. Logical ids are looked up from the construct tree, not hard-coded with their hashes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aws_cdk.assertions import Match
from tests.infra.template import (
    DYNAMODB_WRITE_ACTIONS,
    allowed_actions,
    as_list,
    event_source_mapping,
    function_properties,
    get_att_arn,
    methods_by_path,
    object_resources,
    role_statements,
    statements_granting,
)

from bulk_import import resources
from bulk_import import workflow as workflow_definition
from bulk_import.adapters.dynamo_keys import index_projection
from infra import bundling
from infra import stack as stack_module

if TYPE_CHECKING:
    from conftest import Synth

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

# -- tables ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", resources.TABLES, ids=lambda spec: spec.logical_id)
def test_table_keys_billing_pitr_encryption_and_retention(synth: Synth, spec: resources.TableSpec) -> None:
    table = synth.resources[spec.logical_id]
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    props = table["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": spec.partition_key, "KeyType": "HASH"},
        {"AttributeName": spec.sort_key, "KeyType": "RANGE"},
    ]
    assert {"AttributeName": spec.partition_key, "AttributeType": "S"} in props["AttributeDefinitions"]
    assert {"AttributeName": spec.sort_key, "AttributeType": "S"} in props["AttributeDefinitions"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True


@pytest.mark.parametrize("spec", resources.TABLES, ids=lambda spec: spec.logical_id)
def test_table_ttl_follows_the_spec(synth: Synth, spec: resources.TableSpec) -> None:
    props = synth.resources[spec.logical_id]["Properties"]
    if spec.ttl_attribute is None:
        assert "TimeToLiveSpecification" not in props
    else:
        assert props["TimeToLiveSpecification"] == {"AttributeName": spec.ttl_attribute, "Enabled": True}


@pytest.mark.parametrize("spec", resources.TABLES, ids=lambda spec: spec.logical_id)
def test_table_indexes_follow_the_spec(synth: Synth, spec: resources.TableSpec) -> None:
    props = synth.resources[spec.logical_id]["Properties"]
    indexes = {index["IndexName"]: index for index in props.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == {index.name for index in spec.indexes}
    for index in spec.indexes:
        assert indexes[index.name]["KeySchema"] == [
            {"AttributeName": index.partition_key, "KeyType": "HASH"},
            {"AttributeName": index.sort_key, "KeyType": "RANGE"},
        ]
        projection, included = index_projection(index.name)
        expected: dict[str, Any] = {"ProjectionType": projection}
        if included:
            expected["NonKeyAttributes"] = list(included)
        assert indexes[index.name]["Projection"] == expected
        assert {"AttributeName": index.partition_key, "AttributeType": "S"} in props["AttributeDefinitions"]


def test_the_records_table_has_no_index_so_a_record_is_written_once(synth: Synth) -> None:
    props = synth.resources[resources.RECORDS_TABLE.logical_id]["Properties"]
    assert "GlobalSecondaryIndexes" not in props
    assert {a["AttributeName"] for a in props["AttributeDefinitions"]} == {"pk", "sk"}


# -- bucket ------------------------------------------------------------------------------------------------


def test_bucket_is_private_encrypted_versioned_and_retained(synth: Synth) -> None:
    bucket = synth.resources[synth.logical_id(synth.stack.bucket)]
    assert bucket["DeletionPolicy"] == "Retain"
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    algorithm = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ]
    assert algorithm["SSEAlgorithm"] in {"AES256", "aws:kms"}
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}


@pytest.mark.parametrize("prefix", ["payloads/", "chunks/"])
def test_transient_objects_expire_after_seven_days(synth: Synth, prefix: str) -> None:
    rules = synth.resources[synth.logical_id(synth.stack.bucket)]["Properties"]["LifecycleConfiguration"][
        "Rules"
    ]
    matching = [rule for rule in rules if rule.get("Prefix") == prefix and rule["Status"] == "Enabled"]
    assert matching, f"no lifecycle rule for {prefix}"
    assert matching[0]["ExpirationInDays"] == 7


def test_bucket_policy_denies_plain_http(synth: Synth) -> None:
    bucket_id = synth.logical_id(synth.stack.bucket)
    synth.template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": bucket_id},
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        )
                    ]
                )
            },
        },
    )


def test_incoming_objects_notify_the_file_drop_queue(synth: Synth) -> None:
    bucket_id = synth.logical_id(synth.stack.bucket)
    queue_id = synth.logical_id(synth.stack.file_drop_queue)
    synth.template.has_resource_properties(
        "Custom::S3BucketNotifications",
        {
            "BucketName": {"Ref": bucket_id},
            "NotificationConfiguration": {
                "QueueConfigurations": [
                    {
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "incoming/"}]}},
                        "QueueArn": get_att_arn(queue_id),
                    }
                ]
            },
        },
    )
    # ... and S3 may actually send there.
    synth.template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [{"Ref": queue_id}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "s3.amazonaws.com"},
                                "Action": Match.array_with(["sqs:SendMessage"]),
                            }
                        )
                    ]
                )
            },
        },
    )


# -- queues and alarms -------------------------------------------------------------------------------------


def test_chunk_queue_redrives_to_its_dlq(synth: Synth) -> None:
    props = synth.resources[synth.logical_id(synth.stack.chunk_queue)]["Properties"]
    redrive = props["RedrivePolicy"]
    assert redrive["maxReceiveCount"] >= 5
    assert redrive["maxReceiveCount"] == resources.CHUNK_MAX_RECEIVE_COUNT
    assert redrive["deadLetterTargetArn"] == get_att_arn(synth.logical_id(synth.stack.chunk_dlq))
    assert props["VisibilityTimeout"] == resources.CHUNK_VISIBILITY_TIMEOUT_SECONDS


def test_file_drop_queue_redrives_to_its_dlq(synth: Synth) -> None:
    props = synth.resources[synth.logical_id(synth.stack.file_drop_queue)]["Properties"]
    assert props["RedrivePolicy"]["deadLetterTargetArn"] == get_att_arn(
        synth.logical_id(synth.stack.file_drop_dlq)
    )


@pytest.mark.parametrize("name", ["chunk_queue", "chunk_dlq", "file_drop_queue", "file_drop_dlq"])
def test_queues_are_encrypted_and_tls_only(synth: Synth, name: str) -> None:
    queue_id = synth.logical_id(getattr(synth.stack, name))
    props = synth.resources[queue_id]["Properties"]
    assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props
    synth.template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [{"Ref": queue_id}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                        )
                    ]
                )
            },
        },
    )


@pytest.mark.parametrize("name", ["chunk_dlq", "file_drop_dlq"])
def test_dead_letter_queues_raise_an_alarm(synth: Synth, name: str) -> None:
    dlq_id = synth.logical_id(getattr(synth.stack, name))
    synth.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}],
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 0,
        },
    )


# -- functions ---------------------------------------------------------------------------------------------


FUNCTIONS = {
    "api_function": "bulk_import.entrypoints.api.handler",
    "authorizer_function": "bulk_import.entrypoints.authorizer.handler",
    "chunk_worker": "bulk_import.entrypoints.worker.handler",
    "chunk_dlq_worker": "bulk_import.entrypoints.worker.dlq_handler",
    "file_drop": "bulk_import.entrypoints.file_drop.handler",
    "file_drop_dlq_worker": "bulk_import.entrypoints.file_drop.dlq_handler",
    "sweep": "bulk_import.entrypoints.sweep.handler",
    "workflow_tasks": "bulk_import.entrypoints.workflow.handler",
}


@pytest.mark.parametrize(("name", "handler"), FUNCTIONS.items(), ids=list(FUNCTIONS))
def test_function_handler_runtime_tracing_and_logs(synth: Synth, name: str, handler: str) -> None:
    props = function_properties(synth, getattr(synth.stack, name))
    assert props["Handler"] == handler
    assert props["Runtime"] == "python3.12"
    # The architecture must match the wheels pip downloads for the bundle.
    assert props["Architectures"] == ["x86_64"]
    assert all("x86_64" in platform for platform in bundling.PIP_PLATFORMS)
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "bulk-import"
    assert "POWERTOOLS_LOG_LEVEL" in props["Environment"]["Variables"]
    log_group_id = props["LoggingConfig"]["LogGroup"]["Ref"]
    assert synth.resources[log_group_id]["Properties"]["RetentionInDays"] > 0


def test_api_function_size_and_environment(synth: Synth) -> None:
    props = function_properties(synth, synth.stack.api_function)
    assert props["MemorySize"] == 1769
    assert props["Timeout"] == 29
    env = props["Environment"]["Variables"]
    expected = {spec.env_var for spec in resources.TABLES} | {
        resources.BUCKET_ENV,
        resources.CHUNK_QUEUE_ENV,
        resources.CHUNK_DLQ_ENV,
        resources.EVENT_BUS_ENV,
        resources.STATE_MACHINE_ENV,
    }
    assert expected <= set(env)
    assert env[resources.STATE_MACHINE_ENV] == {"Ref": synth.logical_id(synth.stack.state_machine)}
    assert env[resources.CONFIG_TABLE.env_var] == {"Ref": resources.CONFIG_TABLE.logical_id}


def test_authorizer_environment_names_the_config_table_only(synth: Synth) -> None:
    env = function_properties(synth, synth.stack.authorizer_function)["Environment"]["Variables"]
    assert env[resources.CONFIG_TABLE.env_var] == {"Ref": resources.CONFIG_TABLE.logical_id}
    for other in (resources.IMPORTS_TABLE, resources.RECORDS_TABLE):
        assert other.env_var not in env


# -- event sources -----------------------------------------------------------------------------------------


def test_chunk_worker_consumes_the_chunk_queue_with_partial_failures(synth: Synth) -> None:
    mapping = event_source_mapping(synth, synth.stack.chunk_worker)
    assert mapping["EventSourceArn"] == get_att_arn(synth.logical_id(synth.stack.chunk_queue))
    assert mapping["BatchSize"] == resources.CHUNK_BATCH_SIZE
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_dead_lettered_chunks_are_consumed_so_their_rows_are_marked_failed(synth: Synth) -> None:
    mapping = event_source_mapping(synth, synth.stack.chunk_dlq_worker)
    assert mapping["EventSourceArn"] == get_att_arn(synth.logical_id(synth.stack.chunk_dlq))
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_chunk_worker_times_out_before_the_message_reappears(synth: Synth) -> None:
    timeout = function_properties(synth, synth.stack.chunk_worker)["Timeout"]
    assert timeout < resources.CHUNK_VISIBILITY_TIMEOUT_SECONDS


def test_file_drop_consumes_its_queue_with_partial_failures(synth: Synth) -> None:
    mapping = event_source_mapping(synth, synth.stack.file_drop)
    assert mapping["EventSourceArn"] == get_att_arn(synth.logical_id(synth.stack.file_drop_queue))
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = synth.resources[synth.logical_id(synth.stack.file_drop_queue)]["Properties"]
    assert function_properties(synth, synth.stack.file_drop)["Timeout"] < queue["VisibilityTimeout"]


def test_file_drop_queue_settings_are_the_local_stacks(synth: Synth) -> None:
    mapping = event_source_mapping(synth, synth.stack.file_drop)
    assert mapping["BatchSize"] == resources.FILE_DROP_BATCH_SIZE
    queue = synth.resources[synth.logical_id(synth.stack.file_drop_queue)]["Properties"]
    assert queue["VisibilityTimeout"] == resources.FILE_DROP_VISIBILITY_TIMEOUT_SECONDS
    assert queue["RedrivePolicy"]["maxReceiveCount"] == resources.FILE_DROP_MAX_RECEIVE_COUNT


# -- least privilege ---------------------------------------------------------------------------------------


def test_authorizer_only_reads_the_config_table(synth: Synth) -> None:
    statements = role_statements(synth, synth.stack.authorizer_function)
    actions = allowed_actions(statements)
    assert "dynamodb:GetItem" in actions or "dynamodb:Query" in actions, "the authorizer must read keys"
    assert not actions & DYNAMODB_WRITE_ACTIONS
    assert not {action for action in actions if action.endswith("*") and action.startswith("dynamodb")}
    config_arn = get_att_arn(resources.CONFIG_TABLE.logical_id)
    for statement in statements:
        if any(action.startswith("dynamodb:") for action in as_list(statement["Action"])):
            for resource in as_list(statement["Resource"]):
                assert resource == config_arn or resources.CONFIG_TABLE.logical_id in json.dumps(resource)
    # Nothing else of the stack's data: no other table, the bucket, the queues or the state machine.
    rendered = json.dumps(statements)
    others = [
        resources.IMPORTS_TABLE.logical_id,
        resources.RECORDS_TABLE.logical_id,
        synth.logical_id(synth.stack.bucket),
        synth.logical_id(synth.stack.chunk_queue),
        synth.logical_id(synth.stack.state_machine),
    ]
    for other in others:
        assert other not in rendered
    assert not {action for action in actions if action.split(":")[0] in {"s3", "sqs", "states", "events"}}


def test_authorizer_role_has_no_managed_policy_beyond_logging(synth: Synth) -> None:
    role = synth.resources[synth.logical_id(synth.stack.authorizer_function.role)]["Properties"]
    rendered = json.dumps(role.get("ManagedPolicyArns", []))
    assert "AWSLambdaBasicExecutionRole" in rendered
    assert rendered.count("arn:") <= 1


def test_api_can_write_every_table_queue_chunks_and_start_the_workflow(synth: Synth) -> None:
    statements = role_statements(synth, synth.stack.api_function)
    writers = statements_granting(statements, "dynamodb:PutItem")
    written = {json.dumps(resource) for s in writers for resource in as_list(s["Resource"])}
    for spec in resources.TABLES:
        assert json.dumps(get_att_arn(spec.logical_id)) in written
    sends = statements_granting(statements, "sqs:SendMessage")
    assert any(
        get_att_arn(synth.logical_id(synth.stack.chunk_queue)) in as_list(s["Resource"]) for s in sends
    )
    starts = statements_granting(statements, "states:StartExecution")
    assert any({"Ref": synth.logical_id(synth.stack.state_machine)} in as_list(s["Resource"]) for s in starts)
    puts = json.dumps(statements_granting(statements, "s3:PutObject"))
    for prefix in ("/payloads/*", "/results/*"):
        assert prefix in puts


def test_state_machine_runs_the_definition_file_with_the_task_function_substituted(synth: Synth) -> None:
    props = synth.resources[synth.logical_id(synth.stack.state_machine)]["Properties"]
    assert props["StateMachineType"] == "STANDARD"
    # The file itself is the definition (an asset of the assembly, byte for byte); the local stack runs it.
    staged = Path(synth.stack.node.root.outdir) / f"asset.{props['DefinitionS3Location']['Key']}"
    assert staged.read_bytes() == stack_module.WORKFLOW_DEFINITION.read_bytes()
    substitutions = props["DefinitionSubstitutions"]
    assert substitutions == {"WorkflowTasksArn": get_att_arn(synth.logical_id(synth.stack.workflow_tasks))}
    assert set(substitutions) == workflow_definition.placeholders()


def test_state_machine_role_invokes_the_workflow_tasks_and_nothing_else(synth: Synth) -> None:
    function_id = synth.logical_id(synth.stack.workflow_tasks)
    statements = role_statements(synth, synth.stack.state_machine)
    actions = allowed_actions(statements)
    services = {action.split(":")[0] for action in actions}
    # Logs delivery and X-Ray are what CDK adds for the state machine's logging and tracing.
    assert services == {"lambda", "logs", "xray"}
    assert {a for a in actions if a.startswith("lambda:")} == {"lambda:InvokeFunction"}
    assert {a for a in actions if a.startswith("logs:")} <= {
        "logs:CreateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:DescribeLogGroups",
        "logs:DescribeResourcePolicies",
        "logs:GetLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:UpdateLogDelivery",
    }
    invoked = [
        r for s in statements_granting(statements, "lambda:InvokeFunction") for r in as_list(s["Resource"])
    ]
    assert invoked, "the state machine must invoke its task function"
    for resource in invoked:
        assert json.dumps(get_att_arn(function_id)) in json.dumps(resource)


def test_workflow_tasks_publish_only_to_the_calls_bus(synth: Synth) -> None:
    bus_id = synth.logical_id(synth.stack.bus)
    props = function_properties(synth, synth.stack.workflow_tasks)
    assert props["Environment"]["Variables"][resources.EVENT_BUS_ENV] == {"Ref": bus_id}
    statements = role_statements(synth, synth.stack.workflow_tasks)
    assert {a for a in allowed_actions(statements) if a.startswith("events:")} == {"events:PutEvents"}
    puts = statements_granting(statements, "events:PutEvents")
    assert [r for s in puts for r in as_list(s["Resource"])] == [get_att_arn(bus_id)]


def test_only_the_workflow_tasks_and_the_api_reach_the_bus_or_the_workflow(synth: Synth) -> None:
    """Who may publish calls, start the workflow and answer its task tokens."""
    machine = {"Ref": synth.logical_id(synth.stack.state_machine)}
    tasks = role_statements(synth, synth.stack.workflow_tasks)
    answers = statements_granting(tasks, "states:SendTaskSuccess")
    assert [r for s in answers for r in as_list(s["Resource"])] == [machine]
    assert not statements_granting(tasks, "states:StartExecution")
    for name in ("chunk_worker", "chunk_dlq_worker"):
        statements = role_statements(synth, getattr(synth.stack, name))
        assert any(
            machine in as_list(s["Resource"])
            for s in statements_granting(statements, "states:SendTaskSuccess")
        )
        assert not statements_granting(statements, "events:PutEvents")
    for name in ("api_function", "chunk_worker", "chunk_dlq_worker", "authorizer_function"):
        assert not statements_granting(role_statements(synth, getattr(synth.stack, name)), "events:PutEvents")


def test_the_calls_bus_exists(synth: Synth) -> None:
    # (No test for dependency cycles: ``Template.from_json`` refuses a cyclic template, so the synth
    # fixture fails first; granting the task function the task response through its default policy would.)
    bus = synth.resources[synth.logical_id(synth.stack.bus)]
    assert bus["Type"] == "AWS::Events::EventBus"
    assert bus["Properties"]["Name"]


# -- REST API ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/console", "/console/{proxy+}"])
def test_docs_and_console_need_no_key(synth: Synth, path: str) -> None:
    method = methods_by_path(synth)[(path, "GET")]
    assert method["AuthorizationType"] == "NONE"
    assert "AuthorizerId" not in method


@pytest.mark.parametrize(
    "path", ["/{proxy+}", "/", "/openapi.json", "/docs", "/console", "/console/{proxy+}"]
)
def test_every_other_route_goes_through_the_key_authorizer(synth: Synth, path: str) -> None:
    authorizer_id = next(iter(synth.of_type("AWS::ApiGateway::Authorizer")))
    method = methods_by_path(synth)[(path, "ANY")]
    assert method["AuthorizationType"] == "CUSTOM"
    assert method["AuthorizerId"] == {"Ref": authorizer_id}


@pytest.mark.parametrize(
    ("path", "verb"),
    [("/{proxy+}", "ANY"), ("/", "ANY"), ("/openapi.json", "GET"), ("/docs", "GET"), ("/console", "GET")],
)
def test_routes_proxy_to_the_api_function(synth: Synth, path: str, verb: str) -> None:
    integration = methods_by_path(synth)[(path, verb)]["Integration"]
    assert integration["Type"] == "AWS_PROXY"
    function_arn = json.dumps(get_att_arn(synth.logical_id(synth.stack.api_function)))
    assert function_arn in json.dumps(integration["Uri"])


def test_authorizer_is_an_uncached_request_authorizer(synth: Synth) -> None:
    authorizers = list(synth.of_type("AWS::ApiGateway::Authorizer").values())
    assert len(authorizers) == 1
    props = authorizers[0]["Properties"]
    assert props["Type"] == "REQUEST"
    assert props["AuthorizerResultTtlInSeconds"] == 0
    # Either header may carry the key, so API Gateway must not require any one of them.
    assert not props.get("IdentitySource")
    function_arn = json.dumps(get_att_arn(synth.logical_id(synth.stack.authorizer_function)))
    assert function_arn in json.dumps(props["AuthorizerUri"])


def test_stage_logs_access_and_throttles(synth: Synth) -> None:
    stages = list(synth.of_type("AWS::ApiGateway::Stage").values())
    assert len(stages) == 1
    props = stages[0]["Properties"]
    assert props["AccessLogSetting"]["DestinationArn"]
    assert "$context.requestId" in props["AccessLogSetting"]["Format"]
    throttled = [
        s for s in props["MethodSettings"] if s.get("ThrottlingRateLimit") and s.get("ThrottlingBurstLimit")
    ]
    assert throttled


def test_outputs(synth: Synth) -> None:
    outputs = synth.template_json["Outputs"]
    expected = {"ApiUrl", "ImportBucketName"} | {f"{spec.logical_id}Name" for spec in resources.TABLES}
    assert expected <= set(outputs)


# -- file imports ---------------------------------------------------------------------------------


def test_file_drop_reads_incoming_writes_results_and_tags_only_incoming(synth: Synth) -> None:
    statements = role_statements(synth, synth.stack.file_drop)
    assert "/incoming/*" in object_resources(statements, "s3:GetObject*")
    assert "/results/*" in object_resources(statements, "s3:PutObject")
    assert "/incoming/*" not in object_resources(statements, "s3:PutObject")  # never rewrites a drop
    assert "/incoming/*" in object_resources(statements, "s3:PutObjectTagging")
    starts = statements_granting(statements, "states:StartExecution")
    assert any({"Ref": synth.logical_id(synth.stack.state_machine)} in as_list(s["Resource"]) for s in starts)
    sends = statements_granting(statements, "sqs:SendMessage")
    assert any(
        get_att_arn(synth.logical_id(synth.stack.chunk_queue)) in as_list(s["Resource"]) for s in sends
    )


def test_workflow_tasks_read_dropped_files_and_write_result_files(synth: Synth) -> None:
    statements = role_statements(synth, synth.stack.workflow_tasks)
    assert "/incoming/*" in object_resources(statements, "s3:GetObject*")
    assert "/results/*" in object_resources(statements, "s3:PutObject")
    assert "/incoming/*" not in object_resources(statements, "s3:PutObject")


def test_api_signs_uploads_to_incoming_and_downloads_of_results(synth: Synth) -> None:
    statements = role_statements(synth, synth.stack.api_function)
    assert "/incoming/*" in object_resources(statements, "s3:PutObject")
    assert "/results/*" in object_resources(statements, "s3:GetObject*")
    assert "/incoming/*" not in object_resources(statements, "s3:GetObject*")


def test_no_worker_but_the_file_drop_tags_dropped_files(synth: Synth) -> None:
    # (The API may: grant_put, which upload URLs need, includes tagging.)
    for name in ("chunk_worker", "chunk_dlq_worker", "workflow_tasks", "authorizer_function"):
        statements = role_statements(synth, getattr(synth.stack, name))
        assert "/incoming/*" not in object_resources(statements, "s3:PutObjectTagging")
