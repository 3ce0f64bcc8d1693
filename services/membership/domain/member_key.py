"""A member key: one DID, email or external id names at most one member of a community."""

from __future__ import annotations

import hashlib

from services.membership.domain.events import KeyClaimed
from shared.domain import Aggregate, applies


def member_key_id(community: str, key: str) -> str:
    """`key` is `did:…`, `email:<lower-case address>` or `external:<id>`."""
    return f"{community}.key.{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def email_key(email: str) -> str:
    return f"email:{email.strip().lower()}"


def external_key(external_id: str) -> str:
    return f"external:{external_id.strip()}"


class MemberKey(Aggregate):
    member_id: str

    @classmethod
    def claim(cls, community: str, key: str, member_id: str, now: int) -> MemberKey:
        claimed = cls(member_key_id(community, key))
        claimed.trigger(KeyClaimed, now, member_id=member_id)
        return claimed

    @applies(KeyClaimed)
    def _claimed(self, event: KeyClaimed) -> None:
        self.member_id = event.member_id
