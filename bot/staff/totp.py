"""Time-based one-time passwords (RFC 6238, over HOTP, RFC 4226): what any authenticator app
shows, computed with the standard library; no dependency to pin for thirty lines of arithmetic."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from typing import Optional
from urllib.parse import quote

STEP_SECONDS = 30
DIGITS = 6
# A code from the step before or after is accepted too: phones' clocks drift.
WINDOW = 1


def new_secret() -> str:
    """160 random bits, base32 without padding (what the apps take)."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _key(secret: str) -> bytes:
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(key: bytes, counter: int, digits: int = DIGITS) -> str:
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def step_of(moment: float) -> int:
    return int(moment // STEP_SECONDS)


def code_at(secret: str, moment: float) -> str:
    return hotp(_key(secret), step_of(moment))


def matching_step(
    secret: str, code: str, moment: Optional[float] = None, after: Optional[int] = None
) -> Optional[int]:
    """The time step whose code this is (within the window), or None. A step at or before
    `after` (the last one used) is refused: a code works once."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    now = step_of(time.time() if moment is None else moment)
    key = _key(secret)
    for step in range(max(0, now - WINDOW), now + WINDOW + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(hotp(key, step), code):
            return step
    return None


def provisioning_uri(secret: str, account: str, issuer: str = "VideoPro privacy desk") -> str:
    """The otpauth:// address an authenticator app reads (typed in, or as a QR code)."""
    label = quote(f"{issuer}:{account}")
    return (
        f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer)}"
        f"&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}"
    )
