"""Signed Janus tokens and the labels (opaque ids) of the handles a browser attaches.

A token is what Janus's core checks on every request when `token_auth_secret` is set
(`auth.c`): `<expiry>,janus,<plugin>[,<plugin>...]:<base64 HMAC-SHA1 of the part before the
colon>`. Janus refuses a token whose expiry has passed on every request, keepalives included, so a
client must renew its token before it expires or its session times out.

An opaque id names who attached a handle (`mv.<user>.<nonce>.<signature>`): the server lists the
handles of its Janus hosts and ends the sessions of a user whose access ended. Janus does not
check opaque ids; the signature lets the server tell its own labels from invented ones.
"""

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

TOKEN_REALM = "janus"  # noqa: S105 - the realm name of the tokens, not a secret
OPAQUE_PREFIX = "mv"


def mint_token(
    *, secret: str, ttl_seconds: int, plugins: tuple[str, ...], now: float | None = None
) -> str:
    """A signed token valid for `ttl_seconds` that lets its holder attach `plugins` only."""
    if not secret:
        raise ValueError("a Janus token needs the token secret")
    expiry = int(now if now is not None else time.time()) + int(ttl_seconds)
    data = ",".join((str(expiry), TOKEN_REALM, *plugins))
    digest = hmac.new(secret.encode(), data.encode(), hashlib.sha1).digest()
    return f"{data}:{base64.b64encode(digest).decode()}"


def token_expiry(token: str) -> int:
    return int(token.split(",", 1)[0])


def _label_signature(secret: str, user_id: int, nonce: str) -> str:
    message = f"{OPAQUE_PREFIX}.{user_id}.{nonce}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:16]


def make_opaque_id(*, secret: str, user_id: int, tag: str = "") -> str:
    """`tag` (letters, digits and dashes) starts the nonce, e.g. "r20000012-" for the handles
    of a meeting room, so the server can end one room's sessions of a user."""
    nonce = f"{tag}{secrets.token_hex(6)}"
    return f"{OPAQUE_PREFIX}.{user_id}.{nonce}.{_label_signature(secret, user_id, nonce)}"


@dataclass(frozen=True, slots=True)
class Label:
    user_id: int
    genuine: bool
    nonce: str = ""


def read_opaque_id(opaque_id: str | None, *, secret: str) -> Label | None:
    """Who an opaque id names, and whether the server signed it; None if it is not ours."""
    parts = (opaque_id or "").split(".")
    if len(parts) != 4 or parts[0] != OPAQUE_PREFIX or not parts[1].isdigit():
        return None
    user_id = int(parts[1])
    expected = _label_signature(secret, user_id, parts[2])
    return Label(user_id=user_id, genuine=hmac.compare_digest(expected, parts[3]), nonce=parts[2])
