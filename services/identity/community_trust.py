"""Use cases of the community trust agents: DIDs, credential issuance, status lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.persistence import IntegrityError

from services.identity.application import IdentityApplication
from services.identity.domain.trust_agent import PURPOSES, CommunityTrustAgent, trust_agent_id
from services.identity.keys import TrustAgentKeys
from services.identity.retry import Conflict, retrying
from shared.application import NotFound
from shared.domain import DomainError
from shared.subjects import InvalidSubject, check_token
from shared.trust.credentials import sign_credential
from shared.trust.datetimes import parse_datetime
from shared.trust.dtg_membership import membership_credential
from shared.trust.dtg_roles import authority_credential
from shared.trust.errors import TrustError
from shared.trust.status_list import (
    StatusBitstring,
    StatusPurpose,
    status_list_credential,
    status_list_entry,
)
from shared.trust.webvh_controller import (
    WebvhLog,
    community_document,
    create_log,
    next_key_hash,
    update_log,
)
from shared.trust.webvh_did import webvh_did_template

NS = 10**9
MAX_VALIDITY = timedelta(days=3 * 366)


def _at(now_ns: int) -> datetime:
    return datetime.fromtimestamp(now_ns // NS, tz=UTC)


RESERVED_TYPES = frozenset({"MembershipCredential", "AuthorityCredential", "BitstringStatusListCredential"})


class CommunityTrust:
    """What the community's trust agent does for the other services (over `identity.cmd.*`)."""

    def __init__(self, app: IdentityApplication, keys: TrustAgentKeys) -> None:
        self.app = app
        self.keys = keys

    def _community(self, community: str) -> str:
        try:
            return check_token(community, "community")
        except InvalidSubject as exc:
            raise DomainError("invalid_request", str(exc)) from exc

    def _agent(self, community: str) -> CommunityTrustAgent:
        try:
            return self.app.load(CommunityTrustAgent, trust_agent_id(community))
        except NotFound:
            return CommunityTrustAgent(trust_agent_id(community))

    def _save(self, agent: CommunityTrustAgent) -> None:
        try:
            self.app.save(agent)
        except IntegrityError as exc:
            raise Conflict(agent.id) from exc

    def _settings(self) -> Any:
        return self.app.settings

    def _log(self, agent: CommunityTrustAgent) -> WebvhLog:
        return WebvhLog(tuple(agent.log))

    @retrying
    def community_did(self, community: str, now: int) -> dict[str, Any]:
        """The community's did:webvh, created (key 0, committing to key 1) on first use."""
        agent = self._agent_with_did(self._community(community), now)
        return {"did": agent.did, "key_index": agent.key_index}

    def _agent_with_did(self, community: str, now: int, *, save: bool = True) -> CommunityTrustAgent:
        """The community's trust agent, loaded once, its did:webvh created if it has none (and saved
        then, unless the caller saves it with what it does next, in the same commit)."""
        agent = self._agent(community)
        if agent.did is None:
            settings = self._settings()
            template = webvh_did_template(
                settings.public_host, port=settings.public_port, path=("c", community)
            )
            key0 = self.keys.community_key(community, 0)
            key1 = self.keys.community_key(community, 1)
            log = create_log(
                community_document(template, {"key-0": key0.public_key}),
                signing_key=key0,
                version_time=_at(now),
                next_key_hashes=[next_key_hash(key1.public_key)],
            )
            agent.create_did(community=community, did=log.did, log_entry=log.entries[0], now=now)
            if save:
                self._save(agent)
        return agent

    @retrying
    def rotate_key(self, community: str, now: int) -> dict[str, Any]:
        """Move to the committed next key and commit to the one after it (pre-rotation)."""
        community = self._community(community)
        agent = self._agent(community)
        if agent.did is None:
            raise DomainError("no_did", f"{community} has no DID yet")
        last_time = parse_datetime(agent.log[-1]["versionTime"])
        if _at(now) <= last_time:
            raise DomainError(
                "rotation_too_soon",
                "DID log entries are timed to the second and must follow each other; retry in a second",
            )
        new_index = agent.key_index + 1
        new_key = self.keys.community_key(community, new_index)
        following = self.keys.community_key(community, new_index + 1)
        try:
            log = update_log(
                self._log(agent),
                signing_key=new_key,
                version_time=_at(now),
                document=community_document(agent.did, {f"key-{new_index}": new_key.public_key}),
                update_keys=[new_key.public_key],
                next_key_hashes=[next_key_hash(following.public_key)],
            )
        except TrustError as exc:
            raise DomainError("did_update_refused", str(exc)) from exc
        agent.rotate(key_index=new_index, log_entry=log.entries[-1], now=now)
        self._save(agent)
        return {"did": agent.did, "key_index": new_index}

    def did_log(self, community: str) -> str:
        agent = self._agent(self._community(community))
        if agent.did is None:
            raise NotFound("not_found", f"{community} has no DID")
        return self._log(agent).to_jsonl()

    def status_list_url(self, community: str, purpose: str) -> str:
        return f"{self._settings().base_url}/c/{community}/status/{purpose}"

    @retrying
    def issue_credential(
        self,
        community: str,
        credential_type: str,
        subject: str,
        claims: dict[str, Any],
        valid_until: str,
        now: int,
    ) -> dict[str, Any]:
        community = self._community(community)
        # One load, and for a new community one commit: the DID is created with its first credential.
        agent = self._agent_with_did(community, now, save=False)
        assert agent.did is not None
        issued_at = _at(now)
        try:
            until = parse_datetime(valid_until)
        except (TrustError, TypeError, ValueError) as exc:
            raise DomainError("invalid_valid_until", str(exc)) from exc
        if not issued_at < until <= issued_at + MAX_VALIDITY:
            raise DomainError("invalid_valid_until", "validUntil is in the future, within 3 years")
        index = agent.allocate_status_index()
        status = [
            status_list_entry(
                list_url=self.status_list_url(community, purpose),
                index=index,
                purpose=StatusPurpose(purpose),
            )
            for purpose in PURPOSES
        ]
        try:
            if credential_type == "MembershipCredential":
                unsigned = membership_credential(
                    community=agent.did,
                    member=subject,
                    valid_from=issued_at,
                    valid_until=until,
                    status=status,
                )
            elif credential_type == "AuthorityCredential":
                roles = claims.get("roles")
                if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
                    raise DomainError("invalid_claims", "AuthorityCredential claims need roles: [str]")
                unsigned = authority_credential(
                    community=agent.did,
                    member=subject,
                    roles=roles,
                    valid_from=issued_at,
                    valid_until=until,
                    status=status,
                )
            else:
                raise DomainError(
                    "unsupported_credential_type",
                    "this agent issues MembershipCredential and AuthorityCredential",
                )
            key = self.keys.community_key(community, agent.key_index)
            credential = sign_credential(
                unsigned,
                signing_key=key,
                verification_method=f"{agent.did}#key-{agent.key_index}",
                created=issued_at,
            )
        except TrustError as exc:
            raise DomainError("invalid_credential", str(exc)) from exc
        agent.record_issued(
            credential_type=credential_type,
            subject=subject,
            index=index,
            credential=credential,
            now=now,
        )
        self._save(agent)
        return {
            "credential": credential,
            "status": {
                "purpose": "revocation",
                "index": index,
                "list": self.status_list_url(community, "revocation"),
            },
        }

    @retrying
    def sign_document(self, community: str, credential: dict[str, Any], now: int) -> dict[str, Any]:
        """Secure a credential another service composed (an announcement, say) as the community.

        The issuer must be this community's DID, and the types the agent issues itself (membership,
        authority, status lists) are refused here: those carry status entries and are issued only
        through `issue_credential`, so this door cannot mint a membership.
        """
        community = self._community(community)
        agent = self._agent_with_did(community, now)
        assert agent.did is not None
        issuer = credential.get("issuer")
        issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
        if issuer_id != agent.did:
            raise DomainError("wrong_issuer", f"this agent signs only as {agent.did}, not {issuer_id!r}")
        types = credential.get("type")
        if not isinstance(types, list) or "VerifiableCredential" not in types:
            raise DomainError("invalid_credential", "type must be a list naming VerifiableCredential")
        reserved = RESERVED_TYPES.intersection(t for t in types if isinstance(t, str))
        if reserved:
            raise DomainError(
                "reserved_credential_type",
                f"{', '.join(sorted(reserved))} is issued only by the trust agent's own commands",
            )
        key = self.keys.community_key(community, agent.key_index)
        try:
            signed = sign_credential(
                credential,
                signing_key=key,
                verification_method=f"{agent.did}#key-{agent.key_index}",
                created=_at(now),
            )
        except TrustError as exc:
            raise DomainError("invalid_credential", str(exc)) from exc
        return {"credential": signed}

    @retrying
    def set_status(self, community: str, index: int, purpose: str, value: bool, now: int) -> dict[str, Any]:
        community = self._community(community)
        agent = self._agent(community)
        agent.set_status(purpose=purpose, index=index, value=value, now=now)
        self._save(agent)
        return {"index": index, "purpose": purpose, "value": value}

    def status_list(self, community: str, purpose: str, now: int) -> dict[str, Any]:
        """The signed BitstringStatusListCredential of one purpose, as the gateway publishes it."""
        community = self._community(community)
        if purpose not in PURPOSES:
            raise NotFound("not_found", f"no {purpose!r} status list")
        agent = self._agent(community)
        if agent.did is None:
            raise NotFound("not_found", f"{community} has no DID")
        bits = StatusBitstring.of_size()
        for index in sorted(agent.bits[purpose]):
            bits = bits.with_status(index)
        unsigned = status_list_credential(
            list_url=self.status_list_url(community, purpose),
            issuer=agent.did,
            purpose=StatusPurpose(purpose),
            bitstring=bits,
            valid_from=_at(now),
            valid_until=_at(now) + timedelta(days=1),
        )
        return sign_credential(
            unsigned,
            signing_key=self.keys.community_key(community, agent.key_index),
            verification_method=f"{agent.did}#key-{agent.key_index}",
            created=_at(now),
        )
