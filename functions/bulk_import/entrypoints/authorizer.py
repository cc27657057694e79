"""API Gateway Lambda authorizer (REQUEST type): API key -> tenant and scopes.

Reads only the config table (least privilege). An unknown or missing key raises ``Unauthorized``,
which API Gateway answers with 401; scope checks happen per route in ``api.py`` (403).
"""

from __future__ import annotations

from typing import Any

from bulk_import.core.ports import TenantDirectory
from bulk_import.core.tenants import extract_api_key, hash_api_key
from bulk_import.entrypoints.http_types import distinct_values
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


#: The headers a key may come in.
_CREDENTIAL_HEADERS = ("Authorization", "X-API-Key")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Authorize one request from ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``."""
    # API Gateway's ``headers`` keep the last of a header's lines, which must not pick the tenant when
    # they disagree (the same key twice is that key).
    if any(distinct_values(event, name) > 1 for name in _CREDENTIAL_HEADERS):
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
