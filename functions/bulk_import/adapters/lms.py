"""Tenants' loan management systems (the ``LmsClient`` port): DynamoDB records and HTTP LMSs.

``TenantLmsClient`` picks the implementation from the tenant's configuration: an ``lms.url`` means an
HTTP LMS, anything else the records the seed file loaded into the config table (local stack, tests,
tenants without an LMS of their own). Tenant configuration of an HTTP LMS::

    "lms": {"url": "https://lms.example/api", "token": "…", "timeoutSeconds": 5}

``GET {url}/customers/{id}`` with ``Authorization: Bearer {token}`` answers the customer as a JSON
object in the API's field names (``firstName``, ``zipCode``…, ``loans`` [{"id": 67890}]); 404 means
the LMS does not know the id.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from bulk_import.adapters.dynamo_codec import from_item
from bulk_import.adapters.dynamo_keys import lms_pk, lms_sk
from bulk_import.core.errors import LmsUnavailableError
from bulk_import.core.ports import LmsClient
from bulk_import.core.tenants import TenantConfig

#: Largest LMS answer read for one customer; anything bigger is not a customer record.
MAX_RESPONSE_BYTES = 1_000_000


@dataclass
class DynamoLmsClient:
    """LMS records in the config table (pk ``T#{tenant}#LMS``, sk ``CUSTOMER#{id}``, attribute ``data``),
    as ``DynamoTenantDirectory.put_lms_customer`` stores them."""

    client: Any
    table: str

    def fetch_customer(self, tenant: TenantConfig, customer_id: str) -> dict[str, Any] | None:
        """See ``LmsClient.fetch_customer``."""
        return self.fetch_customers(tenant, [customer_id]).get(customer_id)

    def fetch_customers(self, tenant: TenantConfig, customer_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """See ``LmsClient.fetch_customers``: BatchGetItem, 100 keys a call, unprocessed keys retried."""
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(customer_ids))
        pk = lms_pk(tenant.tenant_id)
        for i in range(0, len(unique), 100):
            keys = [{"pk": {"S": pk}, "sk": {"S": lms_sk(c)}} for c in unique[i : i + 100]]
            request: dict[str, Any] = {self.table: {"Keys": keys}}
            attempt = 0
            while request:
                resp = self.client.batch_get_item(RequestItems=request)
                for item in resp.get("Responses", {}).get(self.table, []):
                    data = from_item(item)
                    record = data.get("data")
                    if isinstance(record, dict):
                        found[data["sk"].removeprefix("CUSTOMER#")] = record
                request = resp.get("UnprocessedKeys") or {}
                if request:
                    # Throttled keys: back off a little before asking again (capped, no busy loop).
                    attempt += 1
                    time.sleep(min(0.05 * 2**attempt, 1.0))
        return found


@dataclass
class HttpLmsClient:
    """An HTTP LMS, with the standard library only (no extra dependency in the Lambda bundle).

    Parameters
    ----------
    timeout
        Seconds per request unless the tenant sets ``lms.timeoutSeconds``.
    attempts
        Tries per customer: timeouts, connection errors and 5xx answers are tried again (a GET is safe
        to repeat) after ``backoff`` seconds, doubled each time.
    max_workers
        Customers fetched in parallel by ``fetch_customers``.
    """

    timeout: float = 5.0
    attempts: int = 2
    backoff: float = 0.2
    max_workers: int = 8

    def fetch_customer(self, tenant: TenantConfig, customer_id: str) -> dict[str, Any] | None:
        """See ``LmsClient.fetch_customer``: ``GET {url}/customers/{id}``; 404 is None."""
        # Imported here: urllib.request pulls in http.client and email (~15 ms), paid only by tenants
        # with an HTTP LMS, never at a cold start.
        import urllib.error
        import urllib.request

        settings = tenant.lms or {}
        base = str(settings.get("url") or "").rstrip("/")
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            # Never let urllib open file:// or other schemes from configuration.
            raise LmsUnavailableError(f"the LMS of tenant {tenant.tenant_id} has no http(s) URL configured")
        url = f"{base}/customers/{quote(customer_id, safe='')}"
        headers = {"Accept": "application/json", "User-Agent": "bulk-import"}
        token = settings.get("token")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        timeout = float(settings.get("timeoutSeconds") or self.timeout)
        where = f"the LMS at {parts.hostname}"
        problem = ""
        for attempt in range(max(1, self.attempts)):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                request = urllib.request.Request(url, headers=headers)
                with urllib.request.urlopen(request, timeout=timeout) as answer:
                    body = answer.read(MAX_RESPONSE_BYTES + 1)
                break
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    return None
                # The token is never part of a message: only the status and the customer id are.
                problem = f"{where} answered HTTP {exc.code} for customer {customer_id}"
                if exc.code < 500:
                    raise LmsUnavailableError(problem) from None
            except (TimeoutError, urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                if isinstance(reason, TimeoutError) or "timed out" in str(reason):
                    problem = f"{where} did not answer within {timeout:g} s for customer {customer_id}"
                else:
                    problem = f"{where} could not be reached for customer {customer_id} ({reason})"
        else:
            raise LmsUnavailableError(f"{problem}; try again later")
        if len(body) > MAX_RESPONSE_BYTES:
            raise LmsUnavailableError(f"{where} answered more than 1 MB for customer {customer_id}")
        try:
            record = json.loads(body)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            raise LmsUnavailableError(
                f"{where} answered something that is not a customer object for {customer_id}"
            )
        return record

    def fetch_customers(self, tenant: TenantConfig, customer_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """See ``LmsClient.fetch_customers``: one GET per customer, ``max_workers`` at a time."""
        unique = list(dict.fromkeys(customer_ids))
        if len(unique) <= 1:
            pairs = [(c, self.fetch_customer(tenant, c)) for c in unique]
        else:
            with ThreadPoolExecutor(max_workers=min(self.max_workers, len(unique))) as pool:
                records = pool.map(lambda c: self.fetch_customer(tenant, c), unique)
                pairs = list(zip(unique, records, strict=True))
        return {c: record for c, record in pairs if record is not None}


@dataclass
class TenantLmsClient:
    """The ``LmsClient`` of the stack: each tenant's own LMS, chosen from its configuration."""

    records: LmsClient
    http: LmsClient

    def _for(self, tenant: TenantConfig) -> LmsClient:
        return self.http if (tenant.lms or {}).get("url") else self.records

    def fetch_customer(self, tenant: TenantConfig, customer_id: str) -> dict[str, Any] | None:
        """See ``LmsClient.fetch_customer``."""
        return self._for(tenant).fetch_customer(tenant, customer_id)

    def fetch_customers(self, tenant: TenantConfig, customer_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """See ``LmsClient.fetch_customers``."""
        return self._for(tenant).fetch_customers(tenant, customer_ids)
