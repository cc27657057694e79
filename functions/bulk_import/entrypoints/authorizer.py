"""API Gateway Lambda authorizer (REQUEST type): API key -> tenant and scopes.

Reads only the config table (least privilege). An unknown or missing key raises ``Unauthorized``,
which API Gateway answers with 401; scope checks happen per route in ``api.py`` (403).
"""

from __future__ import annotations

from typing import Any

from bulk_import.core.ports import TenantDirectory
from bulk_import.core.tenants import extract_api_key, hash_api_key
from bulk_import.entrypoints.runtime import Lazy


def _build_directory() -> TenantDirectory:
    from bulk_import.adapters.aws import AwsClients
    from bulk_import.adapters.dynamo_tenants import DynamoTenantDirectory
    from bulk_import.settings import get_settings

    settings = get_settings()
    return DynamoTenantDirectory(AwsClients(settings).client("dynamodb"), settings.config_table)


#: The tenant directory of this container.
DIRECTORY: Lazy[TenantDirectory] = Lazy(_build_directory)


class UnauthorizedError(Exception):
    """Raised with the exact message API Gateway turns into a 401."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


def _resource_arn(method_arn: str) -> str:
    # arn:aws:execute-api:region:account:api-id/stage/METHOD/path -> every method and path of the stage
    head, _, rest = method_arn.partition("/")
    stage = rest.split("/", 1)[0] if rest else "*"
    return f"{head}/{stage}/*/*"


#: The headers a key may come in (lower case).
_CREDENTIAL_HEADERS = frozenset({"authorization", "x-api-key"})


def _credential_given_twice(headers: Any) -> bool:
    """Whether one credential header came on two lines with two values: API Gateway's ``headers`` keep
    the last, which must not pick the tenant (the same key twice is that key)."""
    if not isinstance(headers, dict):
        return False
    sent: dict[str, set[str]] = {}
    for name, values in headers.items():
        lowered = str(name).lower()
        if lowered in _CREDENTIAL_HEADERS and isinstance(values, list):
            sent.setdefault(lowered, set()).update(str(v).strip() for v in values)
    return any(len(values) > 1 for values in sent.values())


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Authorize one request from ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``."""
    if _credential_given_twice(event.get("multiValueHeaders")):
        raise UnauthorizedError()
    key = extract_api_key(event.get("headers"))
    if key is None:
        raise UnauthorizedError()
    principal = DIRECTORY.get().principal_for_key_hash(hash_api_key(key))
    if principal is None:
        raise UnauthorizedError()
    return {
        "principalId": principal.tenant_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": _resource_arn(str(event.get("methodArn", "*"))),
                }
            ],
        },
        # Context values must be strings, numbers or booleans: scopes travel space-separated.
        "context": {"tenantId": principal.tenant_id, "scopes": " ".join(sorted(principal.scopes))},
    }
