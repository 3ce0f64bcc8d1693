"""The port to the identity service that issues a community's credentials, and its NATS adapter.

Contract (identity's commands): `issue_credential`, `set_credential_status`, `community_did`.
A refusal or silence from identity becomes a typed DomainError, so a membership command that
needs a credential records nothing when it cannot get one.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, TypeVar

import msgspec

from shared.commands import CommandClient, CommandRejected, CommandUnavailable
from shared.domain import DomainError

__all__ = ["CredentialIssuer", "CredentialsUnavailable", "IssuedCredential", "NatsCredentials"]

CredentialType = Literal["MembershipCredential", "AuthorityCredential"]
StatusPurpose = Literal["revocation", "suspension"]
T = TypeVar("T")


class CredentialsUnavailable(DomainError):
    status = 503


class IssuedStatus(msgspec.Struct, frozen=True):
    purpose: str
    index: int
    list: str


class IssuedCredential(msgspec.Struct, frozen=True):
    """What identity answers to `issue_credential`: the signed VC and its status list entry."""

    credential: dict[str, Any]
    status: IssuedStatus


class StatusSet(msgspec.Struct, frozen=True):
    index: int
    value: bool


class CommunityDid(msgspec.Struct, frozen=True):
    did: str


class CredentialIssuer(Protocol):
    """What the membership service needs from identity."""

    async def community_did(self, community: str) -> str: ...

    async def issue(
        self,
        community: str,
        type_: CredentialType,
        subject: str,
        claims: dict[str, Any],
        valid_until: str,
    ) -> IssuedCredential: ...

    async def set_status(self, community: str, index: int, purpose: StatusPurpose, value: bool) -> None: ...


class NatsCredentials:
    """CredentialIssuer over `identity.cmd.*` request/reply."""

    def __init__(self, client: CommandClient) -> None:
        self._client = client

    async def community_did(self, community: str) -> str:
        reply = await self._call("community_did", {"community": community}, CommunityDid)
        return reply.did

    async def issue(
        self,
        community: str,
        type_: CredentialType,
        subject: str,
        claims: dict[str, Any],
        valid_until: str,
    ) -> IssuedCredential:
        payload = {
            "community": community,
            "type": type_,
            "subject": subject,
            "claims": claims,
            "valid_until": valid_until,
        }
        return await self._call("issue_credential", payload, IssuedCredential)

    async def set_status(self, community: str, index: int, purpose: StatusPurpose, value: bool) -> None:
        payload = {"community": community, "index": index, "purpose": purpose, "value": value}
        reply = await self._call("set_credential_status", payload, StatusSet)
        if (reply.index, reply.value) != (index, value):
            raise CredentialsUnavailable(
                "credential_status_mismatch",
                f"identity set bit {reply.index}={reply.value}, not {index}={value}",
            )

    async def _call(self, name: str, payload: dict[str, Any], reply_type: type[T]) -> T:
        try:
            result = await self._client.call("identity", name, payload)
        except CommandUnavailable as exc:
            raise CredentialsUnavailable(
                "credentials_unavailable",
                f"the identity service is not answering ({exc}); nothing was recorded",
            ) from exc
        except CommandRejected as exc:
            raise CredentialsUnavailable(
                "credential_refused", f"identity refused {name}: {exc.type}: {exc.message}"
            ) from exc
        try:
            return msgspec.convert(result, reply_type)
        except msgspec.ValidationError as exc:
            raise CredentialsUnavailable(
                "credential_reply_invalid", f"identity answered {name} with an unexpected shape: {exc}"
            ) from exc
