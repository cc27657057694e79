"""List prices ``make cost`` multiplies the counted units by: us-east-1, on-demand, no free tier.

Each figure is in US dollars per one unit of what ``cost_meter`` counts. Change them here, and the date
with them, when the published prices change.
"""

from __future__ import annotations

#: The date on which these were the published list prices (DynamoDB's on-demand prices are those that
#: followed the November 2024 reduction). Check them against the pricing pages before quoting a figure.
PRICES_AS_OF = "2025-01-15"
REGION = "us-east-1"

PRICES: dict[str, float] = {
    # DynamoDB on-demand, Standard table class: $0.625 per million write, $0.125 per million read units.
    "dynamodb_wru": 0.625 / 1e6,
    "dynamodb_rru": 0.125 / 1e6,
    # SQS standard queues: $0.40 per million requests (each 64 KB chunk of a payload is one request).
    "sqs_request": 0.40 / 1e6,
    # S3 Standard: PUT, COPY, POST, LIST $0.005 per 1,000; GET, HEAD and the rest $0.0004 per 1,000.
    "s3_put": 0.005 / 1e3,
    "s3_get": 0.0004 / 1e3,
    # Step Functions standard workflows: $0.025 per 1,000 state transitions.
    "sfn_transition": 0.025 / 1e3,
    # EventBridge custom events: $1.00 per million (each 64 KB chunk of an event is one event).
    "events_put": 1.00 / 1e6,
    # Lambda on x86: $0.0000166667 per GB-second and $0.20 per million requests.
    "lambda_gb_s": 0.0000166667,
    "lambda_request": 0.20 / 1e6,
}

#: The floor every import is compared with: one DynamoDB write unit per row.
FLOOR_PER_ROW = PRICES["dynamodb_wru"]
