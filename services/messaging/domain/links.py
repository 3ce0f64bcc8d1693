"""The link in every mail that stops all mail from a community to that address (RFC 8058).

A mail client shows "Unsubscribe" for `List-Unsubscribe`; with `List-Unsubscribe-Post:
List-Unsubscribe=One-Click` it may POST to the link without asking the member anything more, so
the link alone must be the proof. It carries a keyed hash (HMAC-SHA-256, cut to 128 bits) of the
community, the member, the address and when that address was confirmed, under a key every replica
of the service shares (`MESSAGING_LINK_KEY_FILE`). Nothing about it is stored: any replica
recomputes it. Binding the confirmation instant means a link from an earlier mail no longer works
once the member has stopped mail and asked for it again, even at the same address; binding the
address means a link mailed to one address never stops mail to another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

TOKEN_BYTES = 16  # 128 bits: a guess is hopeless, and the link stays short
_DOMAIN = b"cos-messaging-unsubscribe-v1"


class UnsubscribeLinks:
    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the link key is at least 32 bytes")
        self._key = key

    def token(self, community: str, member: str, email: str, since_ns: int) -> str:
        message = b"\x00".join(
            [_DOMAIN, community.encode(), member.encode(), email.lower().encode(), str(since_ns).encode()]
        )
        digest = hmac.new(self._key, message, hashlib.sha256).digest()[:TOKEN_BYTES]
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def matches(self, token: str, community: str, member: str, email: str, since_ns: int) -> bool:
        if not email:
            return False
        expected = self.token(community, member, email, since_ns)
        return hmac.compare_digest(expected.encode(), token.encode(errors="replace"))


def masked(email: str) -> str:
    """`a•••@example.org`: enough for her to recognise her address on a page anyone with the link
    may open, not enough to learn it."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"
