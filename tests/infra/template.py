"""Queries on the synthesized template shared by the infra tests: IAM statements, functions, routes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.infra.conftest import Synth

DYNAMODB_WRITE_ACTIONS = {
    "dynamodb:PutItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
}


def get_att_arn(logical_id: str) -> dict[str, Any]:
    """The ``Fn::GetAtt`` of a resource's ARN, as CDK renders references."""
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def as_list(value: Any) -> list[Any]:
    """IAM lets ``Action`` and ``Resource`` be a single value or a list."""
    return value if isinstance(value, list) else [value]


def role_statements(synth: Synth, function: Any) -> list[dict[str, Any]]:
    """Every IAM statement granted to a function's role: inline role policies and attached policies."""
    role_id = synth.logical_id(function.role)
    role = synth.resources[role_id]
    statements = [
        statement
        for policy in role["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    for policy in synth.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"].get("Roles", []):
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def allowed_actions(statements: list[dict[str, Any]]) -> set[str]:
    """The actions of the ``Allow`` statements."""
    return {
        action
        for statement in statements
        if statement["Effect"] == "Allow"
        for action in as_list(statement["Action"])
    }


def statements_granting(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    """The ``Allow`` statements that list ``action``."""
    return [s for s in statements if s["Effect"] == "Allow" and action in as_list(s["Action"])]


def function_properties(synth: Synth, function: Any) -> dict[str, Any]:
    """The CloudFormation properties of a Lambda function."""
    return dict(synth.resources[synth.logical_id(function)]["Properties"])


def event_source_mapping(synth: Synth, function: Any) -> dict[str, Any]:
    """The properties of the one event source mapping of a function."""
    function_id = synth.logical_id(function)
    mappings = [
        resource["Properties"]
        for resource in synth.of_type("AWS::Lambda::EventSourceMapping").values()
        if resource["Properties"]["FunctionName"] == {"Ref": function_id}
    ]
    assert len(mappings) == 1
    return mappings[0]


def resource_path(api_resources: dict[str, dict[str, Any]], ref: dict[str, Any]) -> str:
    """The full path of an API resource (``/``, ``/{proxy+}``, ``/console/{proxy+}``) from its reference."""
    if "Fn::GetAtt" in ref:
        assert ref["Fn::GetAtt"][1] == "RootResourceId"
        return "/"
    props = api_resources[ref["Ref"]]["Properties"]
    return resource_path(api_resources, props["ParentId"]).rstrip("/") + "/" + props["PathPart"]


def methods_by_path(synth: Synth) -> dict[tuple[str, str], dict[str, Any]]:
    """API methods keyed by (full path, HTTP method)."""
    api_resources = synth.of_type("AWS::ApiGateway::Resource")
    return {
        (
            resource_path(api_resources, method["Properties"]["ResourceId"]),
            method["Properties"]["HttpMethod"],
        ): (method["Properties"])
        for method in synth.of_type("AWS::ApiGateway::Method").values()
    }


def object_resources(statements: list[dict[str, Any]], action: str) -> str:
    """The resources of the statements granting ``action``, rendered (to look prefixes up in)."""
    return json.dumps([r for s in statements_granting(statements, action) for r in as_list(s["Resource"])])
