"""Sealing data at rest with a key derived from APP_SECRET (AES-256-GCM): access copies waiting
to be fetched, staff members' TOTP secrets. The secret lives outside the database, so a copy of
the database (a backup, a dump) does not open them.

Each use has its own `purpose`, so a key for one is never the key for another, and a `context`
that is authenticated with the data (a sealed value moved onto another row does not open).
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


def derive_key(secret: str, purpose: bytes) -> bytes:
    return hmac.new(secret.encode(), b"videopro " + purpose + b" key v1", hashlib.sha256).digest()


def seal(data: bytes, secret: str, purpose: bytes, context: bytes = b"") -> bytes:
    """A fresh nonce, then the ciphertext with its tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(derive_key(secret, purpose)).encrypt(nonce, data, context)


def unseal(blob: bytes, secret: str, purpose: bytes, context: bytes = b"") -> bytes:
    """The data; `cryptography.exceptions.InvalidTag` for a wrong secret, purpose or context."""
    return AESGCM(derive_key(secret, purpose)).decrypt(
        blob[:NONCE_BYTES], blob[NONCE_BYTES:], context
    )
