"""EventBridge implementation of the event bus."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bulk_import.core.ports import BusEvent

#: ``source`` of every event the stack publishes.
SOURCE = "bulk-import"


@dataclass
class EventBridgeBus:
    """PutEvents on one bus, at most 10 entries a call (the API's limit); the caller re-sends refusals."""

    client: Any
    bus_name: str
    source: str = SOURCE
    max_entries: int = 10

    def put_events(self, events: Sequence[BusEvent]) -> list[str | None]:
        """See ``EventBus.put_events``."""
        if len(events) > self.max_entries:
            raise ValueError(f"at most {self.max_entries} events per call, got {len(events)}")
        if not events:
            return []
        resp = self.client.put_events(
            Entries=[
                {
                    "EventBusName": self.bus_name,
                    "Source": self.source,
                    "DetailType": e.detail_type,
                    "Detail": json.dumps(e.detail, separators=(",", ":"), default=str),
                }
                for e in events
            ]
        )
        results: list[str | None] = []
        for entry in resp.get("Entries", []):
            code = entry.get("ErrorCode")
            results.append(f"{code}: {entry.get('ErrorMessage', '')}".rstrip(": ") if code else None)
        if len(results) != len(events):  # PutEvents answers one entry per event, in order
            raise RuntimeError(f"PutEvents answered {len(results)} entries for {len(events)} events")
        return results
