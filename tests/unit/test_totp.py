"""RFC 6238 TOTP (bot.staff.totp) against the RFC's own test vectors, the window, and reuse."""

import base64

import pytest

from bot.staff import totp

RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()


@pytest.mark.parametrize(
    "moment, expected",
    [
        # RFC 6238 Appendix B, SHA-1, 8 digits.
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_the_rfc_6238_vectors(moment, expected):
    key = base64.b32decode(RFC_SECRET)
    assert totp.hotp(key, totp.step_of(moment), digits=8) == expected


def test_a_code_matches_its_step_and_its_neighbours_once():
    secret = totp.new_secret()
    moment = 1_700_000_000
    code = totp.code_at(secret, moment)
    step = totp.step_of(moment)
    assert totp.matching_step(secret, code, moment) == step
    assert totp.matching_step(secret, code, moment + 30) == step  # a phone 30 s behind
    assert totp.matching_step(secret, code, moment + 90) is None  # too old
    assert totp.matching_step(secret, code, moment, after=step) is None  # used already
    assert totp.matching_step(secret, f" {code[:3]} {code[3:]} ", moment) == step
    assert totp.matching_step(secret, "12345", moment) is None
    assert totp.matching_step(secret, "abcdef", moment) is None


def test_the_provisioning_uri_names_the_account_and_the_secret():
    uri = totp.provisioning_uri("JBSWY3DPEHPK3PXP", "legal1")
    assert uri.startswith("otpauth://totp/VideoPro%20privacy%20desk%3Alegal1?")
    assert "secret=JBSWY3DPEHPK3PXP" in uri and "period=30" in uri and "digits=6" in uri
