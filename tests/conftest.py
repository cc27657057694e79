"""Shared fixtures: every test starts from a clean, offline AWS environment."""

from __future__ import annotations

import os

# No test may reach a real AWS account: fake credentials and one region for the whole session.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

# Hypothesis: no per-example deadline. Two cores shared by parallel test workers make timings noise, and
# no test here asserts on time (make bench measures it).
from hypothesis import settings

settings.register_profile("project", deadline=None)
settings.load_profile("project")
