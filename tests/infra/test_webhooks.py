"""The webhook resources of the template: queue and DLQ with its alarm, the delivery function, the KMS key,
and grants no wider than what announcing and delivering need."""

from __future__ import annotations

from typing import Any

import pytest
from tests.infra.conftest import Synth
from tests.infra.template import (
    allowed_actions,
    as_list,
    event_source_mapping,
    function_properties,
    get_att_arn,
    role_statements,
    statements_granting,
)

from bulk_import.resources import CONFIG_TABLE
from bulk_import.usecases.webhook_deliveries import MAX_ATTEMPTS

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def _announcers(synth: Synth) -> list[Any]:
    s = synth.stack
    return [
        s.api_function,
        s.chunk_worker,
        s.chunk_dlq_worker,
        s.file_drop,
        s.file_drop_dlq_worker,
        s.sweep,
        s.workflow_tasks,
    ]


def test_deliveries_wait_in_a_queue_that_dead_letters_after_every_attempt(synth: Synth) -> None:
    webhooks = synth.stack.webhooks
    queue = synth.resources[synth.logical_id(webhooks.queue)]["Properties"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] == MAX_ATTEMPTS == 8
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == get_att_arn(synth.logical_id(webhooks.dlq))
    # Every retry delay is a visibility timeout SQS accepts (at most 12 hours).
    assert queue["MessageRetentionPeriod"] > 5 + 300 + 1800 + 7200 + 18000 + 36000 + 36000
    dlq_id = synth.logical_id(webhooks.dlq)
    alarms = [
        a["Properties"]
        for a in synth.of_type("AWS::CloudWatch::Alarm").values()
        if {"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}
        in a["Properties"].get("Dimensions", [])
    ]
    assert len(alarms) == 1
    topic = {"Ref": synth.logical_id(synth.stack.alarms.topic)}
    assert topic in alarms[0]["AlarmActions"]


def test_the_delivery_function_consumes_the_queue_one_delivery_at_a_time(synth: Synth) -> None:
    webhooks = synth.stack.webhooks
    props = function_properties(synth, webhooks.function)
    assert props["Handler"] == "bulk_import.entrypoints.webhook_delivery.handler"
    assert props["Timeout"] == 30
    mapping = event_source_mapping(synth, webhooks.function)
    assert mapping["BatchSize"] == 1 and mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["EventSourceArn"] == get_att_arn(synth.logical_id(webhooks.queue))


def test_secrets_are_sealed_by_a_rotated_key_only_the_delivery_function_opens(synth: Synth) -> None:
    webhooks = synth.stack.webhooks
    key_id = synth.logical_id(webhooks.key)
    assert synth.resources[key_id]["Properties"]["EnableKeyRotation"] is True
    delivery = role_statements(synth, webhooks.function)
    (decrypt,) = statements_granting(delivery, "kms:Decrypt")
    assert as_list(decrypt["Resource"]) == [get_att_arn(key_id)]
    assert "kms:Encrypt" not in allowed_actions(delivery)
    api = role_statements(synth, synth.stack.api_function)
    (encrypt,) = statements_granting(api, "kms:Encrypt")
    assert as_list(encrypt["Action"]) == ["kms:Encrypt"] and as_list(encrypt["Resource"]) == [
        get_att_arn(key_id)
    ]
    assert "kms:Decrypt" not in allowed_actions(api)
    for function in _announcers(synth)[1:]:
        assert not any(a.startswith("kms:") for a in allowed_actions(role_statements(synth, function)))


def test_every_function_that_ends_imports_can_announce_them(synth: Synth) -> None:
    webhooks = synth.stack.webhooks
    queue_arn = get_att_arn(synth.logical_id(webhooks.queue))
    for function in _announcers(synth):
        env = function_properties(synth, function)["Environment"]["Variables"]
        assert {"WEBHOOK_QUEUE_URL", "WEBHOOK_KEY_ID"} <= set(env)
        sends = statements_granting(role_statements(synth, function), "sqs:SendMessage")
        assert any(queue_arn in as_list(s["Resource"]) for s in sends)


def test_the_delivery_function_may_not_queue_deliveries_or_write_endpoints_wholesale(synth: Synth) -> None:
    webhooks = synth.stack.webhooks
    statements = role_statements(synth, webhooks.function)
    actions = allowed_actions(statements)
    assert "sqs:SendMessage" not in actions
    assert not {"events:PutEvents", "states:StartExecution"} & actions
    config_arn = get_att_arn(CONFIG_TABLE.logical_id)
    on_config = {
        action for s in statements if config_arn in as_list(s["Resource"]) for action in as_list(s["Action"])
    }
    assert on_config == {"dynamodb:GetItem", "dynamodb:UpdateItem"}


def test_nothing_of_the_webhooks_is_a_cdk_nag_finding(synth: Synth) -> None:
    found = [v for v in synth.violations if "Webhook" in str(v) or "kms:" in str(v)]
    assert found == []
