"""The import console: one page and its two files, served by the API function at ``GET /console``.

The page loads without a key (API Gateway has no authorizer on ``/console`` and ``/console/{proxy+}``);
the person types the key into it, and the page calls the public API with it, as any client would.
Every answer carries a strict Content-Security-Policy: scripts and styles only from the API's own
origin (no inline code), calls only to the API and to the origin of the presigned upload URLs, no
frames, no forms sent anywhere. That upload origin is read from an upload URL presigned here, by the
same client that presigns the real ones: the bucket's S3 endpoint on AWS, the emulator locally.

Registered on the one resolver when ``api`` imports this module.
"""

from __future__ import annotations

import html
from functools import lru_cache
from importlib import resources
from string import Template
from typing import Any
from urllib.parse import urlsplit

from bulk_import.entrypoints import apidoc
from bulk_import.entrypoints.resolver import Response, app, error_response, logger
from bulk_import.entrypoints.runtime import DEPS

#: The console's own files under ``/console/``, and their media types.
FILES = {
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
#: A key that is presigned only to learn the upload origin; nothing is ever put there.
ORIGIN_PROBE_KEY = "incoming/console/origin-probe"


def upload_origin() -> str | None:
    """The scheme and host the presigned upload URLs point to (None: this deployment has no uploads)."""
    try:
        files = DEPS.get().files
        if files is None:
            return None
        parts = urlsplit(files.upload_url(ORIGIN_PROBE_KEY, 60))
    except Exception:  # the page still loads; uploads from it are then refused by the browser
        logger.exception("cannot presign an upload URL for the console's policy")
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(upload: str | None) -> str:
    """The console's policy: nothing inline, nothing from elsewhere, calls to the API and the uploads."""
    connect = " ".join(["'self'", *([upload] if upload else [])])
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"connect-src {connect}; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    )


def _headers(policy: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


@lru_cache(maxsize=4)
def _read(name: str) -> str:
    return resources.files("bulk_import").joinpath("console", name).read_text(encoding="utf-8")


def _kind_choices() -> tuple[str, str]:
    """The ``<option>`` of every kind, and a fieldset of each kind's options (all escaped)."""
    from bulk_import.kinds import REGISTRY, get_kind

    choices, fieldsets = [], []
    for name in REGISTRY:
        kind = get_kind(name)
        value = html.escape(name)
        choices.append(f'<option value="{value}">{value}</option>')
        fields = []
        for option, (_, shape) in kind.file_options.items():
            label = html.escape(option)
            if shape == "flag":
                field = (
                    f'<input type="checkbox" id="{value}-{label}" name="{label}" data-option="{label}" '
                    'value="true">'
                )
                fields.append(f'<label class="flag">{field} {label}</label>')
            else:
                field = (
                    f'<input type="text" id="{value}-{label}" name="{label}" data-option="{label}" '
                    'autocomplete="off">'
                )
                fields.append(f"<label>{label} {field}</label>")
        body = "".join(fields) or "<p>This kind has no options.</p>"
        fieldsets.append(
            f'<fieldset class="kind-options" data-kind="{value}" hidden>'
            f"<legend>Options of {value} imports</legend>{body}</fieldset>"
        )
    return "".join(choices), "".join(fieldsets)


def page(base: str) -> str:
    """The console's HTML for an API served under ``base`` (``/``, or ``/prod`` on API Gateway's URL)."""
    choices, fieldsets = _kind_choices()
    root = base.rstrip("/")
    return Template(_read("index.html")).substitute(
        base=html.escape(root, quote=True), kind_choices=choices, kind_options=fieldsets
    )


@app.get("/console", include_in_schema=False)
def console_page() -> Response[Any]:
    """The import console (no key needed to load it)."""
    base = apidoc.server_url(app.current_event.raw_event)
    return Response(
        status_code=200,
        content_type="text/html; charset=utf-8",
        body=page(base),
        headers=_headers(content_security_policy(upload_origin())),
    )


@app.get("/console/<name>", include_in_schema=False)
def console_file(name: str) -> Response[Any]:
    """The console's script and style sheet."""
    if name not in FILES:
        return error_response(404, f"no file {name[:100]} in the console")
    return Response(
        status_code=200,
        content_type=FILES[name],
        body=_read(name),
        headers=_headers(content_security_policy(None)),
    )
