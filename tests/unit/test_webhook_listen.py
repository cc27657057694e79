"""``bulk-import webhooks listen``: registered on the command line, refusing a secret no endpoint has."""

from __future__ import annotations

import pytest

from bulk_import.cli import build_parser, main
from bulk_import.local import webhooks


def test_the_listen_command_is_registered_with_its_port_and_secret() -> None:
    args = build_parser().parse_args(
        ["webhooks", "listen", "--port", "9001", "--secret", "whsec_" + "A" * 40]
    )
    assert (args.port, args.secret) == (9001, "whsec_" + "A" * 40)
    assert args.func is webhooks._listen


@pytest.mark.parametrize("secret", ["nope", "whsec_", "whsec_c2hvcnQ=", "sk_" + "A" * 40])
def test_a_secret_that_no_endpoint_can_have_is_refused_in_one_line(
    secret: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["webhooks", "listen", "--port", "0", "--secret", secret]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bulk-import webhooks listen: --secret must be whsec_") and "\n" not in err
