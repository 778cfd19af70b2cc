"""Password hashing with scrypt from the standard library (memory-hard, salted).

The cost parameters are written into every hash (`scrypt$N$r$p$salt$digest`), so hashes of
older, cheaper parameters still verify and are rewritten at the next successful login.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class ScryptCost:
    n: int
    r: int = 8
    p: int = 1

    @property
    def maxmem(self) -> int:
        """scrypt needs 128·N·r·p bytes; OpenSSL refuses more than 32 MiB unless told."""
        return 128 * self.n * self.r * self.p + 2**20


#: OWASP's current guidance for scrypt (Password Storage Cheat Sheet): N=2^17, r=8, p=1.
RECOMMENDED_COST = ScryptCost(n=2**17)

_current = RECOMMENDED_COST


def use_cost(cost: ScryptCost) -> None:
    """Set the cost new hashes get (the service's setting; tests lower it to stay fast)."""
    global _current
    _current = cost


def current_cost() -> ScryptCost:
    return _current


def _digest(password: str, salt: bytes, cost: ScryptCost) -> bytes:
    return hashlib.scrypt(
        password.encode(),
        salt=salt,
        n=cost.n,
        r=cost.r,
        p=cost.p,
        maxmem=cost.maxmem,
        dklen=32,
    )


def hash_password(password: str, *, cost: ScryptCost | None = None) -> str:
    cost = cost or _current
    salt = secrets.token_bytes(16)
    digest = _digest(password, salt, cost)
    return (
        f"scrypt${cost.n}${cost.r}${cost.p}$"
        f"{base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    )


def _parse(encoded: str) -> tuple[ScryptCost, bytes, bytes] | None:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = encoded.split("$")
        if scheme != "scrypt":
            return None
        return (
            ScryptCost(n=int(n), r=int(r), p=int(p)),
            base64.b64decode(salt_b64),
            base64.b64decode(digest_b64),
        )
    except ValueError:
        return None


def verify_password(password: str, encoded: str) -> bool:
    parsed = _parse(encoded)
    if parsed is None:
        return False
    cost, salt, expected = parsed
    return hmac.compare_digest(_digest(password, salt, cost), expected)


def needs_rehash(encoded: str) -> bool:
    """Whether a (verified) hash was made with other parameters than new hashes get."""
    parsed = _parse(encoded)
    return parsed is None or parsed[0] != _current


@functools.cache
def _dummy_hash(cost: ScryptCost) -> str:
    return hash_password(secrets.token_urlsafe(16), cost=cost)


def verify_against_nothing(password: str) -> None:
    """Spend what checking a real password costs, for an email that has no password, so the
    answer's timing does not tell whether the account exists."""
    verify_password(password, _dummy_hash(_current))
