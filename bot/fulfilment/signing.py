"""The signature both sides put on a webhook body: HMAC-SHA256 of the raw bytes with the system's
secret, sent as `X-Signature-256: sha256=<hex>`.

The raw bytes, not a parsed and re-serialised body, are what is signed, so that neither side has
to reproduce the other's JSON spacing or key order to check a signature. The comparison is
constant-time so that a caller cannot learn a valid signature byte by byte from response times.
An empty secret signs nothing: a signature anyone can compute would prove nothing.

This module imports nothing from the project, so the request store may import it.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Optional

SIGNATURE_HEADER = "X-Signature-256"
IDEMPOTENCY_HEADER = "Idempotency-Key"
# The only algorithm there is; the prefix is there so that another can be added without
# guessing what an old header meant.
PREFIX = "sha256="


def sign(body: bytes, secret: str) -> str:
    """The header value for `body`: "sha256=" and the lower-case hex HMAC-SHA256."""
    if not secret:
        raise ValueError("an empty secret cannot sign a webhook body")
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return PREFIX + digest


def verify(body: bytes, header: Optional[str], secret: str) -> bool:
    """Whether `header` is the signature of `body` with `secret`. A missing or malformed header,
    another algorithm's prefix or an empty secret is False, never an exception: to the caller
    each is the same 401."""
    if not secret or not header:
        return False
    header = header.strip()
    if not header.startswith(PREFIX):
        return False
    # Bytes, not str: compare_digest refuses a str with non-ASCII characters, and a header is
    # whatever the caller sent. Hex is compared in either case.
    given = header[len(PREFIX) :].lower().encode("utf-8", "replace")
    expected = sign(body, secret)[len(PREFIX) :].encode("ascii")
    return hmac.compare_digest(given, expected)
