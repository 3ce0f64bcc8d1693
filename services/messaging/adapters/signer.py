"""The community's signature on announcements: a port, and its adapter asking identity's trust agent.

An announcement is a W3C Verifiable Credential (`AnnouncementCredential`) issued by the
community's did:webvh and secured with eddsa-jcs-2022, so `cos vc verify` checks it anywhere.
"""

from __future__ import annotations

from typing import Any, Protocol

from services.messaging.domain.errors import Invalid
from shared.commands import CommandClient, CommandRejected, CommandUnavailable
from shared.domain import DomainError


class SignatureUnavailable(DomainError):
    status = 503


class CommunitySigner(Protocol):
    async def community_did(self, community: str) -> str: ...

    async def sign(self, community: str, credential: dict[str, Any]) -> dict[str, Any]:
        """`credential` (its `issuer` the community's DID) with the community's Data Integrity proof."""
        ...


class NatsCommunitySigner:
    """Asks the identity service: `community_did`, then `sign_credential` (see the README)."""

    def __init__(self, client: CommandClient, service: str = "identity") -> None:
        self._client = client
        self._service = service

    async def _call(self, name: str, payload: dict[str, Any]) -> Any:
        try:
            return await self._client.call(self._service, name, payload)
        except CommandUnavailable as exc:
            raise SignatureUnavailable(
                "community_signature_unavailable",
                f"the community's trust agent did not sign ({exc}); nothing was sent",
            ) from exc
        except CommandRejected as exc:
            if exc.status >= 500:
                raise SignatureUnavailable("community_signature_unavailable", exc.message) from exc
            raise Invalid("signature_refused", f"the trust agent refused: {exc.type}: {exc.message}") from exc

    async def community_did(self, community: str) -> str:
        return str((await self._call("community_did", {"community": community}))["did"])

    async def sign(self, community: str, credential: dict[str, Any]) -> dict[str, Any]:
        result = await self._call("sign_credential", {"community": community, "credential": credential})
        signed = result.get("credential") if isinstance(result, dict) else None
        if not isinstance(signed, dict) or "proof" not in signed:
            raise SignatureUnavailable("community_signature_unavailable", "the trust agent answered no proof")
        return signed
