"""The import workflow's state machine definition, one file for the cloud and the local stack.

``definition.asl.json`` (Amazon States Language) names its task function as ``${WorkflowTasksArn}``. The
CDK app deploys the file as is and CloudFormation substitutes the placeholder
(``DefinitionSubstitutions``); the local stack substitutes it with ``render`` and runs the result in
moto's Step Functions interpreter.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

DEFINITION = Path(__file__).with_name("definition.asl.json")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")


def placeholders() -> set[str]:
    """The names of the definition's ``${Name}`` placeholders."""
    return set(_PLACEHOLDER.findall(DEFINITION.read_text(encoding="utf-8")))


def render(**substitutions: str) -> str:
    """The definition with every placeholder substituted, as CloudFormation does.

    Raises
    ------
    KeyError
        A placeholder has no substitution.
    """
    text = DEFINITION.read_text(encoding="utf-8")
    rendered = _PLACEHOLDER.sub(lambda m: substitutions[m.group(1)], text)
    json.loads(rendered)  # still valid JSON
    return rendered
