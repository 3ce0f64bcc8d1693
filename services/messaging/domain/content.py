"""Limits and checks on what members write: titles, bodies, reactions, reasons, recipients."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from services.messaging.domain.errors import Invalid, TooLarge

MAX_TITLE = 200
MAX_POST_BYTES = 32 * 1024
MAX_CHAT_BYTES = 8 * 1024
MAX_SEALED_BYTES = 16 * 1024  # one recipient's sealed box, base64
MAX_RECIPIENTS = 256
MAX_REASON = 1000
MAX_REACTION = 32
MAX_MENTIONS = 50
MAX_NAME = 100
SEALED_BOX_OVERHEAD = 48  # ephemeral public key (32) + Poly1305 tag (16)
LEVELS = ("watching", "normal", "muted")
_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


def _controls(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" and ch not in "\n\t\r" for ch in text)


def check_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise Invalid("invalid_post", "a title is required")
    if len(title) > MAX_TITLE:
        raise TooLarge("too_large", f"a title is at most {MAX_TITLE} characters")
    if _controls(title) or "\n" in title:
        raise Invalid("invalid_post", "a title is one line without control characters")
    return title


def check_body(body: str, limit: int = MAX_POST_BYTES, what: str = "post") -> str:
    if len(body.encode()) > limit:
        raise TooLarge("too_large", f"a {what} is at most {limit} bytes")
    if not body.strip():
        raise Invalid("invalid_post", f"an empty {what} says nothing")
    if _controls(body):
        raise Invalid("invalid_post", f"a {what} may not contain control characters")
    return body


def check_name(name: str, what: str = "name") -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME or _controls(name):
        raise Invalid("invalid_request", f"a {what} is 1-{MAX_NAME} printable characters")
    return name


def check_reason(reason: str, required: bool = True) -> str:
    reason = reason.strip()
    if required and not reason:
        raise Invalid("reason_required", "say why: moderation and appeals always carry a reason")
    if len(reason) > MAX_REASON or _controls(reason):
        raise Invalid("invalid_request", f"a reason is at most {MAX_REASON} printable characters")
    return reason


def check_reaction(reaction: str) -> str:
    if not reaction or len(reaction) > MAX_REACTION or any(ch.isspace() for ch in reaction):
        raise Invalid("invalid_reaction", f"a reaction is 1-{MAX_REACTION} characters without spaces")
    if _controls(reaction) or any(ch in "<>&\"'" for ch in reaction):
        raise Invalid("invalid_reaction", "a reaction is an emoji or a short word")
    return reaction


def check_id(value: str, what: str) -> str:
    if not _ID.match(value):
        raise Invalid("invalid_request", f"{what} {value!r} must be 1-64 characters of A-Z a-z 0-9 _ -")
    return value


def check_dids(dids: list[str] | tuple[str, ...], what: str, limit: int) -> tuple[str, ...]:
    if len(dids) > limit:
        raise TooLarge("too_large", f"at most {limit} {what}")
    for did in dids:
        if not did.startswith("did:") or len(did) > 200:
            raise Invalid("invalid_request", f"{what} must be DIDs, got {did!r}")
    return tuple(sorted(set(dids)))


def digest_id(*parts: str) -> str:
    """A stable id from names: one participant per DID, one direct conversation per pair."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:40]
