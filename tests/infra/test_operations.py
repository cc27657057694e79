"""What an operator relies on once deployed: queues that never redeliver a batch still being processed,
alarms that reach someone, imports that cannot stay stuck, errors in the API's shape, browser uploads."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest
from tests.infra import template as tq
from tests.infra.conftest import TEST_ORIGINS

from bulk_import import resources
from infra import api as api_module
from infra import storage

if TYPE_CHECKING:
    from tests.infra.conftest import Synth

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def queue_by_arn(synth: Synth, arn: dict[str, Any]) -> dict[str, Any]:
    """The properties of the queue an event source mapping reads, from its ``Fn::GetAtt`` ARN."""
    logical_id = arn["Fn::GetAtt"][0]
    queue = synth.resources[logical_id]
    assert queue["Type"] == "AWS::SQS::Queue"
    return dict(queue["Properties"])


# -- queues ------------------------------------------------------------------------------------------------


def test_every_queue_hides_a_batch_six_times_as_long_as_its_consumer_may_run(synth: Synth) -> None:
    functions = synth.of_type("AWS::Lambda::Function")
    mappings = list(synth.of_type("AWS::Lambda::EventSourceMapping").values())
    assert len(mappings) >= 4  # chunks, dead chunks, file drops, dead file drops
    for mapping in mappings:
        props = mapping["Properties"]
        queue = queue_by_arn(synth, props["EventSourceArn"])
        timeout = functions[props["FunctionName"]["Ref"]]["Properties"]["Timeout"]
        assert queue["VisibilityTimeout"] >= 6 * timeout, props["FunctionName"]


def test_every_queue_has_a_consumer_but_the_webhooks_dead_letters_kept_for_a_redrive(synth: Synth) -> None:
    consumed = {
        mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]
        for mapping in synth.of_type("AWS::Lambda::EventSourceMapping").values()
    }
    kept = {synth.logical_id(synth.stack.webhooks.dlq)}
    assert set(synth.of_type("AWS::SQS::Queue")) == consumed | kept and not consumed & kept


def test_every_queue_states_its_retention_and_dead_letters_are_kept_longest(synth: Synth) -> None:
    dlqs = {
        synth.logical_id(queue)
        for queue in (synth.stack.chunk_dlq, synth.stack.file_drop_dlq, synth.stack.webhooks.dlq)
    }
    for logical_id, queue in synth.of_type("AWS::SQS::Queue").items():
        retention = queue["Properties"]["MessageRetentionPeriod"]
        if logical_id in dlqs:
            assert retention == 14 * 24 * 3600  # the SQS maximum
        else:
            assert 24 * 3600 <= retention < 14 * 24 * 3600
            assert queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0] in dlqs


def test_queue_settings_are_the_ones_the_local_stack_uses(synth: Synth) -> None:
    for queue, visibility in [
        (synth.stack.chunk_queue, resources.CHUNK_VISIBILITY_TIMEOUT_SECONDS),
        (synth.stack.chunk_dlq, resources.CHUNK_DLQ_VISIBILITY_TIMEOUT_SECONDS),
        (synth.stack.file_drop_queue, resources.FILE_DROP_VISIBILITY_TIMEOUT_SECONDS),
        (synth.stack.file_drop_dlq, resources.FILE_DROP_DLQ_VISIBILITY_TIMEOUT_SECONDS),
    ]:
        assert synth.resources[synth.logical_id(queue)]["Properties"]["VisibilityTimeout"] == visibility


# -- never stuck -------------------------------------------------------------------------------------------


def test_dead_lettered_files_are_consumed_so_their_import_fails(synth: Synth) -> None:
    fn = synth.stack.file_drop_dlq_worker
    props = tq.function_properties(synth, fn)
    assert props["Handler"] == "bulk_import.entrypoints.file_drop.dlq_handler"
    mapping = tq.event_source_mapping(synth, fn)
    assert mapping["EventSourceArn"] == tq.get_att_arn(synth.logical_id(synth.stack.file_drop_dlq))
    assert mapping["BatchSize"] == resources.FILE_DROP_DLQ_BATCH_SIZE
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def assert_sends_only_to_the_webhook_queue(synth: Synth, statements: list[dict[str, Any]]) -> None:
    sent = [
        r for s in tq.statements_granting(statements, "sqs:SendMessage") for r in tq.as_list(s["Resource"])
    ]
    assert sent == [tq.get_att_arn(synth.logical_id(synth.stack.webhooks.queue))]


def test_the_file_drop_dlq_consumer_records_the_failure_and_nothing_more(synth: Synth) -> None:
    statements = tq.role_statements(synth, synth.stack.file_drop_dlq_worker)
    writes = [s for s in statements if set(tq.as_list(s["Action"])) & tq.DYNAMODB_WRITE_ACTIONS]
    written = json.dumps([r for s in writes for r in tq.as_list(s["Resource"])])
    assert resources.IMPORTS_TABLE.logical_id in written
    assert resources.RECORDS_TABLE.logical_id not in written
    assert resources.CONFIG_TABLE.logical_id not in written
    assert "/incoming/*" in tq.object_resources(statements, "s3:GetObject*")
    assert "/incoming/*" not in tq.object_resources(statements, "s3:PutObject")
    assert "/results/*" in tq.object_resources(statements, "s3:PutObject")  # the failed import's summary
    assert "/incoming/*" in tq.object_resources(statements, "s3:PutObjectTagging")
    actions = tq.allowed_actions(statements)
    assert not {a for a in actions if a.split(":")[0] in {"states", "events"}}
    # The import it fails is announced: it may send to the webhook queue, and to no other queue.
    assert_sends_only_to_the_webhook_queue(synth, statements)
    # It may take messages off its own queue only.
    received = [
        r for s in tq.statements_granting(statements, "sqs:ReceiveMessage") for r in tq.as_list(s["Resource"])
    ]
    assert received == [tq.get_att_arn(synth.logical_id(synth.stack.file_drop_dlq))]


def test_the_sweep_runs_every_hour(synth: Synth) -> None:
    sweep_arn = tq.get_att_arn(synth.logical_id(synth.stack.sweep))
    rules = [
        rule["Properties"]
        for rule in synth.of_type("AWS::Events::Rule").values()
        if any(target["Arn"] == sweep_arn for target in rule["Properties"].get("Targets", []))
    ]
    assert len(rules) == 1
    assert rules[0]["ScheduleExpression"] == "rate(1 hour)"
    assert rules[0]["State"] == "ENABLED"
    # ... and EventBridge may invoke it.
    permissions = [
        p["Properties"]
        for p in synth.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == sweep_arn
    ]
    assert any(p["Principal"] == "events.amazonaws.com" for p in permissions)


def test_the_sweep_reads_and_writes_imports_and_writes_only_result_summaries(synth: Synth) -> None:
    props = tq.function_properties(synth, synth.stack.sweep)
    assert props["Handler"] == "bulk_import.entrypoints.sweep.handler"
    assert props["Environment"]["Variables"][resources.IMPORTS_TABLE.env_var] == {
        "Ref": resources.IMPORTS_TABLE.logical_id
    }
    statements = tq.role_statements(synth, synth.stack.sweep)
    actions = tq.allowed_actions(statements)
    assert {"dynamodb:Query", "dynamodb:UpdateItem"} <= actions
    services = {action.split(":")[0] for action in actions}
    assert services <= {"dynamodb", "s3", "xray", "sqs"}
    assert_sends_only_to_the_webhook_queue(synth, statements)  # an upload it fails is announced
    # Its only object access: writing the failed import's summary under results/.
    s3_resources = [
        r
        for s in statements
        if any(a.startswith("s3:") for a in tq.as_list(s["Action"]))
        for r in tq.as_list(s["Resource"])
    ]
    assert s3_resources
    assert all("/results/*" in json.dumps(r) for r in s3_resources)
    assert not {a for a in actions if a.startswith(("s3:Get", "s3:List", "s3:Delete"))}
    tables = tq.object_resources(statements, "dynamodb:Query")
    assert resources.IMPORTS_TABLE.logical_id in tables
    assert resources.RECORDS_TABLE.logical_id not in tables
    assert resources.CONFIG_TABLE.logical_id not in tables


# -- alarms ------------------------------------------------------------------------------------------------


def alarm_topic(synth: Synth) -> dict[str, str]:
    return {"Ref": synth.logical_id(synth.stack.alarms.topic)}


def test_every_alarm_notifies_the_topic_when_it_fires_and_when_it_recovers(synth: Synth) -> None:
    alarms = synth.of_type("AWS::CloudWatch::Alarm")
    assert alarms
    for logical_id, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [alarm_topic(synth)], logical_id
        assert alarm["Properties"]["OKActions"] == [alarm_topic(synth)], logical_id
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching"


def test_the_stack_outputs_the_alarm_topic(synth: Synth) -> None:
    outputs = synth.template_json["Outputs"]
    assert outputs["AlarmTopicArn"]["Value"] == alarm_topic(synth)


def test_the_alarm_topic_accepts_tls_only(synth: Synth) -> None:
    policies = [
        p["Properties"]
        for p in synth.of_type("AWS::SNS::TopicPolicy").values()
        if alarm_topic(synth) in p["Properties"]["Topics"]
    ]
    statements = [s for p in policies for s in p["PolicyDocument"]["Statement"]]
    assert any(
        s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )


def alarm_on(synth: Synth, namespace: str, metric: str, dimension: dict[str, Any]) -> dict[str, Any]:
    matching = [
        a["Properties"]
        for a in synth.of_type("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == namespace
        and a["Properties"].get("MetricName") == metric
        and dimension in a["Properties"].get("Dimensions", [])
    ]
    assert len(matching) == 1, f"one alarm on {namespace} {metric} {dimension}"
    return matching[0]


def test_every_function_alarms_on_its_errors(synth: Synth) -> None:
    for logical_id in synth.of_type("AWS::Lambda::Function"):
        if logical_id.startswith("BucketNotificationsHandler"):
            continue  # CDK's deploy-time helper
        alarm = alarm_on(
            synth, "AWS/Lambda", "Errors", {"Name": "FunctionName", "Value": {"Ref": logical_id}}
        )
        assert alarm["Statistic"] == "Sum"
        assert alarm["Threshold"] == 0
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_a_failed_workflow_execution_raises_an_alarm(synth: Synth) -> None:
    machine = {"Ref": synth.logical_id(synth.stack.state_machine)}
    alarm = alarm_on(synth, "AWS/States", "ExecutionsFailed", {"Name": "StateMachineArn", "Value": machine})
    assert alarm["Threshold"] == 0
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


# -- API Gateway's own answers ------------------------------------------------------------------------------


def render(template: str, message: str) -> Any:
    """What API Gateway sends for a gateway response: ``messageString`` is the message as a JSON string."""
    return json.loads(template.replace("$context.error.messageString", json.dumps(message)))


@pytest.mark.parametrize(
    "response_type",
    [
        "DEFAULT_4XX",
        "DEFAULT_5XX",
        "UNAUTHORIZED",
        "ACCESS_DENIED",
        "MISSING_AUTHENTICATION_TOKEN",
        "REQUEST_TOO_LARGE",
        "UNSUPPORTED_MEDIA_TYPE",
        "THROTTLED",
        "INTEGRATION_TIMEOUT",
    ],
)
def test_api_gateways_own_answers_have_the_apis_error_shape(synth: Synth, response_type: str) -> None:
    responses = [
        r["Properties"]
        for r in synth.of_type("AWS::ApiGateway::GatewayResponse").values()
        if r["Properties"]["ResponseType"] == response_type
    ]
    assert len(responses) == 1
    templates = responses[0]["ResponseTemplates"]
    assert set(templates) == {"application/json"}
    message = 'Endpoint "request" timed out \\ \u00e9'
    assert render(templates["application/json"], message) == {"message": message, "errors": [message]}
    assert responses[0]["RestApiId"] == {"Ref": synth.logical_id(synth.stack.api)}


def test_gateway_responses_keep_api_gateways_status_codes(synth: Synth) -> None:
    for response in synth.of_type("AWS::ApiGateway::GatewayResponse").values():
        assert "StatusCode" not in response["Properties"]
    assert len(api_module.GATEWAY_RESPONSES) == len(synth.of_type("AWS::ApiGateway::GatewayResponse"))


# -- browser uploads ---------------------------------------------------------------------------------------


def cors_rules(synth: Synth) -> list[dict[str, Any]]:
    bucket = synth.resources[synth.logical_id(synth.stack.bucket)]["Properties"]
    return list(bucket["CorsConfiguration"]["CorsRules"])


def test_browsers_may_only_put_files_to_upload_urls(synth: Synth) -> None:
    rules = cors_rules(synth)
    assert len(rules) == 1
    assert rules[0]["AllowedMethods"] == ["PUT"]
    allowed = [h.lower() for h in rules[0]["AllowedHeaders"]]
    assert "content-type" in allowed
    assert "*" not in allowed
    assert "ETag" in rules[0]["ExposedHeaders"]


def test_upload_origins_are_the_apis_own_and_the_configured_ones(synth: Synth) -> None:
    origins = cors_rules(synth)[0]["AllowedOrigins"]
    own, *configured = origins
    # The API's own origin, where its console page is served: https://{api id}.execute-api.{region}.{suffix}
    assert {"Ref": synth.logical_id(synth.stack.api)} in own["Fn::Join"][1]
    rendered = "".join(part if isinstance(part, str) else "X" for part in own["Fn::Join"][1])
    assert re.fullmatch(r"https://X\.execute-api\.X\.X", rendered)
    assert configured == list(TEST_ORIGINS)
    assert "*" not in json.dumps(origins)


def test_the_default_configuration_adds_no_upload_origin() -> None:
    from infra.app import cdk_json_context

    assert storage.configured_origins(cdk_json_context().get(storage.CORS_ORIGINS_CONTEXT)) == []
