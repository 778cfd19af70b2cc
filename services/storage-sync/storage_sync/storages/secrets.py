"""Storage credentials at rest: sealed with a key derived from the service's secret key.

A database dump alone does not hand out cloud credentials. The API never answers them
(`MASK` stands in for a stored one) and log records never carry them.
"""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken

#: What the API answers in place of a stored credential; sent back, it keeps the stored one.
MASK = "********"


class SecretBox:
    def __init__(self, secret_key: str) -> None:
        digest = hashlib.sha256(b"labelops storage-sync credentials\0" + secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(digest.digest()))

    def seal(self, secrets: dict[str, str]) -> str:
        kept = {name: value for name, value in secrets.items() if value}
        if not kept:
            return ""
        return self._fernet.encrypt(json.dumps(kept).encode()).decode()

    def open(self, sealed: str) -> dict[str, str]:
        if not sealed:
            return {}
        try:
            opened: dict[str, str] = json.loads(self._fernet.decrypt(sealed.encode()))
        except (InvalidToken, ValueError):
            # The secret key changed: the credentials must be entered again.
            return {}
        return opened
