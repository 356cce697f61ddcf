"""The SSRF guard: URL form, and which resolved addresses a webhook may reach."""

from __future__ import annotations

import pytest

from almacen.gateway.webhooks.targets import (
    TargetRefusedError,
    check_target,
    check_url,
    parse_networks,
)

LOOPBACK = parse_networks(["127.0.0.1/32"])


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [
        ("https://hooks.example.com/x", "hooks.example.com", 443),
        ("http://hooks.example.com/x", "hooks.example.com", 80),
        ("https://93.184.215.14:8443/x?y=1", "93.184.215.14", 8443),
        ("https://[2606:4700::1111]/x", "2606:4700::1111", 443),
    ],
)
def test_a_well_formed_url_gives_its_host_and_port(url: str, host: str, port: int) -> None:
    assert check_url(url) == (host, port)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "example.com/hook",
        "https:///x",
        "https://u:p@example.com/",
        "http://example.com:99999/",
        "javascript:alert(1)",
    ],
)
def test_a_malformed_url_is_refused_at_url(url: str) -> None:
    with pytest.raises(TargetRefusedError) as caught:
        check_url(url)
    assert caught.value.errors[0]["pointer"] == "/url"
    assert caught.value.status == 422


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/",
        "http://172.16.5.4/",
        "http://192.168.0.1/",
        "http://127.0.0.1/",
        "http://127.8.8.8/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://[::1]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost/",
    ],
)
def test_non_public_addresses_are_refused(url: str) -> None:
    with pytest.raises(TargetRefusedError, match="webhook_allowed_networks"):
        check_target(url, allowed=())


def test_public_addresses_are_allowed() -> None:
    check_target("https://93.184.215.14/hook", allowed=())
    check_target("https://[2606:4700:4700::1111]/hook", allowed=())


def test_an_allowed_network_admits_its_addresses_only() -> None:
    check_target("http://127.0.0.1:8080/hook", allowed=LOOPBACK)
    check_target("http://[::ffff:127.0.0.1]/hook", allowed=LOOPBACK)
    with pytest.raises(TargetRefusedError):
        check_target("http://127.0.0.2/hook", allowed=LOOPBACK)
    with pytest.raises(TargetRefusedError):
        check_target("http://10.0.0.1/hook", allowed=LOOPBACK)
    check_target("http://10.9.8.7/hook", allowed=parse_networks(["10.0.0.0/8"]))


def test_an_unresolvable_host_is_refused() -> None:
    with pytest.raises(TargetRefusedError, match="does not resolve"):
        check_target("https://no-such-host.invalid/hook", allowed=())


def test_networks_are_parsed_leniently_and_bad_ones_raise() -> None:
    assert [str(n) for n in parse_networks(["10.1.2.3/8", "::1"])] == ["10.0.0.0/8", "::1/128"]
    with pytest.raises(ValueError):
        parse_networks(["10.0.0.0/33"])
