"""Properties of the signature and the address check, over generated input (hypothesis)."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from lodestar.integrations.outbound import _refused_address, sign, url_problem
from tests.integrations.outbound_receiver import verify

SECRETS = st.text(min_size=1, max_size=60).map(lambda s: "whsec_" + s)
BODIES = st.binary(max_size=2000)


def headers(timestamp: str, *signatures: str) -> dict[str, str]:
    return {
        "X-Lodestar-Timestamp": timestamp,
        "X-Lodestar-Signature": ", ".join(f"v1={s}" for s in signatures),
    }


def now() -> str:
    import time

    return str(int(time.time()))


@given(SECRETS, BODIES)
def test_what_is_signed_verifies(secret: str, body: bytes) -> None:
    stamp = now()
    assert verify(secret, headers(stamp, sign(secret, stamp, body)), body)


@given(SECRETS, BODIES, st.integers(min_value=0, max_value=1999), st.integers(1, 255))
def test_a_changed_byte_does_not_verify(secret: str, body: bytes, at: int, flip: int) -> None:
    stamp = now()
    signature = sign(secret, stamp, body)
    if not body:
        body = b"x"
    index = at % len(body)
    changed = body[:index] + bytes([body[index] ^ flip]) + body[index + 1 :]
    assert not verify(secret, headers(stamp, signature), changed)


@given(SECRETS, SECRETS, BODIES)
def test_any_one_of_two_signatures_verifies(old: str, new: str, body: bytes) -> None:
    stamp = now()
    both = headers(stamp, sign(new, stamp, body), sign(old, stamp, body))
    assert verify(new, both, body)
    assert verify(old, both, body)


@given(st.text(max_size=300))
def test_any_text_is_judged_without_an_exception(text: str) -> None:
    problem = url_problem(text)
    assert problem is None or isinstance(problem, str)


PRIVATE = [
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "100.64.0.0/10",
    "0.0.0.0/8",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
]


@given(st.sampled_from(PRIVATE).flatmap(lambda net: st.ip_addresses(network=net)))
def test_every_address_of_a_private_range_is_refused_also_written_as_ipv6(address: object) -> None:
    ip = ipaddress.ip_address(str(address))
    assert _refused_address(str(ip))
    if ip.version == 4:
        assert _refused_address(f"::ffff:{ip}")


@given(st.ip_addresses(network="8.0.0.0/7") | st.ip_addresses(network="2400:cb00::/32"))
def test_public_addresses_are_let_through(address: object) -> None:
    assert not _refused_address(str(address))
