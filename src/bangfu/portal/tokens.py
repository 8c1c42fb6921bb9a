"""Secrets of one-time links (first login, follow-up answers).

A link's token is its row's `public_id` followed by a MAC of it under the site's secret key, so the office can
print a batch of first-login links again while they are open. Only the token's SHA-256 is stored, and a link is
found by that digest: a guessed or altered token matches nothing. Expiry and single use live on the row.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid

from django.utils.crypto import salted_hmac

SALT = "bangfu.portal.links."
MAC_BYTES = 16  # 128 bits: a token is 43 characters


def make_token(*, purpose: str, public_id: uuid.UUID) -> str:
    """The token of the link `public_id` (the same every time it is asked for)."""
    mac = salted_hmac(SALT + purpose, public_id.hex, algorithm="sha256").digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(public_id.bytes + mac).decode().rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_well_formed(token: str) -> bool:
    """Whether `token` could be one of ours at all (so junk never reaches the database)."""
    if not token or len(token) > 100:
        return False
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return False
    return len(raw) == 16 + MAC_BYTES
