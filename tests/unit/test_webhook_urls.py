"""Webhook URLs: https on public addresses only, however an address inside the network is written."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.fakes import FakeResolver, FakeSecretBox, FakeWebhookStore, FixedClock

from bulk_import.core.errors import InvalidRequestError
from bulk_import.core.ports import WebhookPorts
from bulk_import.rules.webhook_urls import (
    WebhookUrlError,
    address_problem,
    parse_ipv4_literal,
    parse_webhook_url,
)
from bulk_import.usecases.webhooks import checked_target, configure_endpoint

REFUSED_ON_AWS = [
    "https://169.254.169.254/latest/meta-data/",
    "https://169.254.170.2/v2/credentials",
    "https://[fd00:ec2::254]/",
    "https://10.0.0.1/",
    "https://172.16.5.4/",
    "https://172.31.255.255/",
    "https://192.168.1.20:8443/hook",
    "https://100.64.0.1/",
    "https://127.0.0.1/",
    "https://127.1/",
    "https://[::1]/",
    "https://[::ffff:169.254.169.254]/",
    "https://[::ffff:a9fe:a9fe]/",
    "https://[::ffff:10.0.0.1]/",
    "https://[64:ff9b::a9fe:a9fe]/",
    "https://[2002:a9fe:a9fe::1]/",
    "https://[fe80::1]/",
    "https://[fc00::1]/",
    "https://2852039166/",
    "https://0xa9fea9fe/",
    "https://0251.0376.0251.0376/",
    "https://0251.254.43518/",
    "https://0/",
    "https://0.0.0.0/",
    "https://224.0.0.1/",
    "https://255.255.255.255/",
    "https://localhost/",
    "https://api.localhost/",
]


@pytest.mark.parametrize("url", REFUSED_ON_AWS)
def test_addresses_inside_the_network_are_refused_however_they_are_written(url: str) -> None:
    with pytest.raises(WebhookUrlError, match="not allowed"):
        parse_webhook_url(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/", "https"),
        ("ftp://hooks.example.com/", "https"),
        ("hooks.example.com/path", "https"),
        ("https://user:pw@hooks.example.com/", "user name or password"),
        ("https://hooks.example.com@10.0.0.1/", "user name or password"),
        ("https:///path", "host"),
        ("https://hooks.example.com:99999/", "port"),
        ("https://hooks.exa mple.com/", "spaces"),
        ("https://hooks.example.com\\@10.0.0.1/", "backslash"),
        ("https://1.2.3.4.5/", "neither"),
        ("https://hooks_.example..com/", "valid name"),
        ("", "empty"),
        ("https://x.example/" + "a" * 2100, "2048"),
    ],
)
def test_malformed_urls_are_refused_with_a_reason(url: str, message: str) -> None:
    with pytest.raises(WebhookUrlError, match=message):
        parse_webhook_url(url)


def test_public_https_urls_are_accepted_as_written() -> None:
    target = parse_webhook_url("https://Hooks.Example.com:8443/in?x=1")
    assert (target.scheme, target.host, target.port) == ("https", "hooks.example.com", 8443)
    assert parse_webhook_url("https://93.184.216.34/").address == ipaddress.ip_address("93.184.216.34")


def test_loopback_http_is_only_for_the_local_stack() -> None:
    assert parse_webhook_url("http://127.0.0.1:9000/", allow_loopback_http=True).port == 9000
    assert parse_webhook_url("http://[::1]:9000/", allow_loopback_http=True).host == "::1"
    with pytest.raises(WebhookUrlError, match="loopback addresses only"):
        parse_webhook_url("http://hooks.example.com/", allow_loopback_http=True)
    with pytest.raises(WebhookUrlError, match="private"):
        parse_webhook_url("https://192.168.0.2/", allow_loopback_http=True)
    with pytest.raises(WebhookUrlError):
        parse_webhook_url("http://127.0.0.1:9000/")


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_every_spelling_of_an_ipv4_address_is_the_same_address(value: int) -> None:
    address = ipaddress.IPv4Address(value)
    a, b, c, d = address.packed
    spellings = [str(value), hex(value), f"0{value:o}", f"{a}.{b}.{c}.{d}", f"{a}.{b}.{(c << 8) | d}"]
    spellings.append(f"0{a:o}.0x{b:x}.{c}.0{d:o}")
    assert {parse_ipv4_literal(s) for s in spellings} == {address}


@given(
    st.one_of(
        st.ip_addresses(network="10.0.0.0/8"),
        st.ip_addresses(network="172.16.0.0/12"),
        st.ip_addresses(network="192.168.0.0/16"),
        st.ip_addresses(network="169.254.0.0/16"),
        st.ip_addresses(network="127.0.0.0/8"),
        st.ip_addresses(network="fc00::/7"),
        st.ip_addresses(network="fe80::/10"),
    )
)
def test_no_private_loopback_or_link_local_address_passes_in_any_form(
    address: ipaddress._BaseAddress,
) -> None:
    forms = [f"https://{address}/" if address.version == 4 else f"https://[{address}]/"]
    if address.version == 4:
        forms += [f"https://{int(address)}/", f"https://[::ffff:{address}]/", f"https://{hex(int(address))}/"]
    for url in forms:
        with pytest.raises(WebhookUrlError):
            parse_webhook_url(url)


def _ports(names: dict[str, list[str]], *, loopback: bool = False) -> WebhookPorts:
    return WebhookPorts(
        store=FakeWebhookStore(),
        secrets=FakeSecretBox(),
        resolver=FakeResolver(names),
        allow_loopback_http=loopback,
    )


@pytest.mark.parametrize(
    "addresses",
    [["10.1.2.3"], ["93.184.216.34", "169.254.169.254"], ["::1"], ["::ffff:192.168.1.1"], ["fd12::1"]],
)
def test_names_that_resolve_inside_the_network_are_refused(addresses: list[str]) -> None:
    ports = _ports({"hooks.example.com": addresses})
    with pytest.raises(WebhookUrlError):
        checked_target(ports, "https://hooks.example.com/in")


def test_a_name_that_resolves_to_public_addresses_is_kept_with_them() -> None:
    ports = _ports({"hooks.example.com": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]})
    target, addresses = checked_target(ports, "https://hooks.example.com/in")
    assert target.host == "hooks.example.com" and addresses == [
        "93.184.216.34",
        "2606:2800:220:1:248:1893:25c8:1946",
    ]


def test_on_the_local_stack_a_name_must_resolve_to_loopback_for_http() -> None:
    ports = _ports({"localhost": ["127.0.0.1", "::1"], "box.example": ["93.184.216.34"]}, loopback=True)
    assert checked_target(ports, "http://localhost:8787/")[1] == ["127.0.0.1", "::1"]
    with pytest.raises(WebhookUrlError):
        checked_target(ports, "http://box.example:8787/")


def test_every_problem_of_a_configuration_is_reported_and_the_secret_never_echoed() -> None:
    ports = _ports({})
    given_secret = "whsec_c2hvcnQ="
    with pytest.raises(InvalidRequestError) as refused:
        configure_endpoint(
            ports,
            "acme",
            "https://10.0.0.1/",
            ["import.completed", "import.done"],
            given_secret,
            FixedClock().now(),
        )
    errors = refused.value.details["errors"]
    assert [e.split(":")[0] for e in errors] == ["url", "events", "secret"]
    assert given_secret not in str(errors) and "c2hvcnQ" not in refused.value.message
    assert ports.store.get_webhook("acme") is None


@pytest.mark.parametrize("address", ["8.8.8.8", "2001:4860:4860::8888", "93.184.216.34"])
def test_public_addresses_have_no_problem(address: str) -> None:
    assert address_problem(address) is None


def test_a_name_that_does_not_resolve_yet_may_be_configured_but_not_delivered_to() -> None:
    ports = _ports({})
    endpoint, _ = configure_endpoint(
        ports, "acme", "https://hooks.example.com/", ["import.completed"], None, FixedClock().now()
    )
    assert endpoint.url == "https://hooks.example.com/"
    with pytest.raises(WebhookUrlError, match="does not resolve"):
        checked_target(ports, "https://hooks.example.com/")


def test_a_name_that_resolves_inside_the_network_cannot_be_configured() -> None:
    ports = _ports({"hooks.example.com": ["93.184.216.34", "10.0.0.7"]})
    with pytest.raises(
        InvalidRequestError, match=r"hooks\.example\.com resolves to 10\.0\.0\.7, which is a private address"
    ):
        configure_endpoint(
            ports, "acme", "https://hooks.example.com/", ["import.completed"], None, FixedClock().now()
        )
