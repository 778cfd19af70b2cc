"""How a delivery is signed, and how a receiver checks it (see the README's "Webhooks").

The body's exact bytes are signed with the webhook's secret: HMAC-SHA256, hex, sent as
`X-LabelOps-Signature-256: sha256=<hex>`. A receiver recomputes it over the raw body it
read (before parsing JSON) and compares in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "X-LabelOps-Signature-256"
DELIVERY_HEADER = "X-LabelOps-Delivery"
EVENT_HEADER = "X-LabelOps-Event"
EVENT_ID_HEADER = "X-LabelOps-Event-Id"
#: When the event happened (Unix seconds, with a fraction).
EVENT_TIME_HEADER = "X-LabelOps-Event-Time"
ATTEMPT_HEADER = "X-LabelOps-Attempt"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def signature(secret: str, body: bytes) -> str:
    """The header's value for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header_value: str) -> bool:
    """What a receiver does: True if `header_value` signs `body` with `secret`."""
    return hmac.compare_digest(signature(secret, body), header_value or "")
