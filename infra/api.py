"""The REST API: every route proxied to the API function, behind the key authorizer but the public pages.

API Gateway answers some requests itself (an authorizer's refusal, a body over its 10 MB limit, a timed-out
integration...). Its gateway responses are rewritten here so that those answers have the API's own error
shape, ``{"message": "...", "errors": ["..."]}`` (the message listed), like every error the function returns.
"""

from __future__ import annotations

from typing import cast

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

API_STAGE = "prod"
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
#: Steady-state and burst request limits of the API stage, per second, across all clients.
API_THROTTLE_RATE = 100
API_THROTTLE_BURST = 200

#: Pages anyone may load without a key: the OpenAPI document, its UI and the import console (whose page
#: asks for the key and sends it with each call). ``GET`` only; other methods go to the authorizer.
PUBLIC_PATHS = ("openapi.json", "docs", "console")

#: The body of every answer API Gateway gives itself. ``messageString`` is API Gateway's message already
#: quoted as a JSON string, so the body stays valid JSON whatever the message holds.
ERROR_TEMPLATE = '{"message":$context.error.messageString,"errors":[$context.error.messageString]}'

#: The answers API Gateway gives itself. The two defaults cover every type; the others are named so that
#: each keeps the shape even if its own default changes, and so they are easy to find in the console.
GATEWAY_RESPONSES = (
    apigw.ResponseType.DEFAULT_4_XX,
    apigw.ResponseType.DEFAULT_5_XX,
    apigw.ResponseType.UNAUTHORIZED,
    apigw.ResponseType.ACCESS_DENIED,
    apigw.ResponseType.AUTHORIZER_FAILURE,
    apigw.ResponseType.AUTHORIZER_CONFIGURATION_ERROR,
    apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
    apigw.ResponseType.RESOURCE_NOT_FOUND,
    apigw.ResponseType.REQUEST_TOO_LARGE,
    apigw.ResponseType.UNSUPPORTED_MEDIA_TYPE,
    apigw.ResponseType.BAD_REQUEST_BODY,
    apigw.ResponseType.BAD_REQUEST_PARAMETERS,
    apigw.ResponseType.THROTTLED,
    apigw.ResponseType.QUOTA_EXCEEDED,
    apigw.ResponseType.INTEGRATION_FAILURE,
    apigw.ResponseType.INTEGRATION_TIMEOUT,
)


def build_rest_api(
    scope: Construct, *, api_function: lambda_.IFunction, authorizer_function: lambda_.IFunction
) -> tuple[apigw.RestApi, apigw.RequestAuthorizer]:
    """Create the REST API, its key authorizer, its routes and its gateway responses.

    Returns
    -------
    tuple
        The API and its authorizer.
    """
    access_logs = logs.LogGroup(
        scope, "ApiAccessLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
    )
    api = apigw.RestApi(
        scope,
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
            # Execution logs of errors only, and never request or response bodies (customers' data).
            logging_level=apigw.MethodLoggingLevel.ERROR,
            data_trace_enabled=False,
        ),
    )
    # Keys come in either `Authorization: Bearer` or `X-API-Key`, so no single identity source fits: with
    # none, API Gateway cannot cache, hence TTL 0, and calls the authorizer on every request. A missing or
    # unknown key makes the authorizer raise "Unauthorized", which API Gateway answers with 401.
    authorizer = apigw.RequestAuthorizer(
        scope,
        "ApiKeyAuthorizer",
        handler=authorizer_function,
        identity_sources=[],
        results_cache_ttl=Duration.seconds(0),
    )
    # CDK renders no identity source as an empty string; leave the property out, as the API documents.
    cast(apigw.CfnAuthorizer, authorizer.node.default_child).add_property_deletion_override("IdentitySource")
    # No test-invoke permissions: they double the function's resource policy for a console feature.
    integration = apigw.LambdaIntegration(api_function, proxy=True, allow_test_invoke=False)

    def protected(resource: apigw.IResource) -> None:
        resource.add_method(
            "ANY", integration, authorizer=authorizer, authorization_type=apigw.AuthorizationType.CUSTOM
        )

    protected(api.root)
    protected(api.root.add_resource("{proxy+}"))
    pages = {path: api.root.add_resource(path) for path in PUBLIC_PATHS}
    # The console's own files (scripts, styles) load without a key too.
    pages["console/{proxy+}"] = pages["console"].add_resource("{proxy+}")
    for page in pages.values():
        page.add_method("GET", integration, authorization_type=apigw.AuthorizationType.NONE)
        # Any other method on a public page is an API call like the rest (the function answers 405), not
        # API Gateway's 403 "Missing Authentication Token" for a method it does not know.
        protected(page)
    for response_type in GATEWAY_RESPONSES:
        api.add_gateway_response(
            f"GatewayResponse{response_type.response_type}",
            type=response_type,
            templates={"application/json": ERROR_TEMPLATE},
        )
    return api, authorizer


def api_origin(api: apigw.RestApi) -> str:
    """The origin of the API's default endpoint, ``https://{id}.execute-api.{region}.{suffix}`` (a token)."""
    stack = Stack.of(api)
    return f"https://{api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}"


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
