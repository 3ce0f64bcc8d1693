"""DID resolution behind one small interface, and dereferencing a verification method for a purpose.

A resolver turns a DID into its DID document. `MethodResolver` routes by DID method, so a did:webvh
resolver is added by passing it alongside the did:key one; nothing that verifies proofs changes.
`default_resolver(webvh_fetcher=…, now=…)` adds the did:webvh resolver reading logs through the
given fetcher (the gateway's store, the CLI's files or HTTPS, a test's fixed bytes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shared.multikey import MultikeyError, multikey_decode
from shared.trust.did_key import DidKeyResolver
from shared.trust.errors import DidError, DidFailure
from shared.trust.fetching import Fetcher

__all__ = [
    "DidResolver",
    "MethodResolver",
    "VerificationMethod",
    "default_resolver",
    "dereference_verification_method",
]


class DidResolver(Protocol):
    """Anything that can turn a DID into its DID document (or raise DidError)."""

    def resolve(self, did: str) -> dict[str, Any]: ...


class MethodResolver:
    """Routes each DID to the resolver registered for its method (`did:<method>:…`)."""

    def __init__(self, resolvers: Mapping[str, DidResolver]) -> None:
        self._resolvers = dict(resolvers)

    def resolve(self, did: str) -> dict[str, Any]:
        parts = did.split(":", 2)
        if len(parts) != 3 or parts[0] != "did" or not parts[1] or not parts[2]:
            raise DidError(DidFailure.INVALID_DID, f"not a DID: {did!r}")
        resolver = self._resolvers.get(parts[1])
        if resolver is None:
            supported = ", ".join(f"did:{name}" for name in sorted(self._resolvers)) or "none"
            raise DidError(
                DidFailure.METHOD_NOT_SUPPORTED,
                f"DID method did:{parts[1]} is not supported (supported: {supported})",
            )
        return resolver.resolve(did)


def default_resolver(
    extra: Mapping[str, DidResolver] | None = None,
    *,
    webvh_fetcher: Fetcher | None = None,
    now: datetime | None = None,
) -> MethodResolver:
    """did:key; did:webvh when a fetcher for its logs is given (judged at `now`); any `extra` by method."""
    resolvers: dict[str, DidResolver] = {"key": DidKeyResolver()}
    if webvh_fetcher is not None:
        if now is None:
            raise ValueError("resolving did:webvh needs the instant to judge its log at (now=...)")
        # Imported here: the did:webvh resolver verifies proofs, and proof code imports this module.
        from shared.trust.webvh_resolver import WebvhResolver

        resolvers["webvh"] = WebvhResolver(webvh_fetcher, now=now)
    return MethodResolver({**resolvers, **(extra or {})})


@dataclass(frozen=True)
class VerificationMethod:
    """An Ed25519 Multikey verification method taken from a resolved DID document."""

    id: str
    controller: str
    public_key: bytes


def dereference_verification_method(
    resolver: DidResolver, method_id: str, relationship: str
) -> VerificationMethod:
    """Resolve the DID of `method_id` and return that method if `relationship` authorises it.

    `relationship` is a verification relationship such as `assertionMethod`: the method must be
    listed there (by reference or embedded), and the DID document must be the one its DID names.
    """
    did, _, fragment = method_id.partition("#")
    if not fragment:
        raise DidError(DidFailure.INVALID_DID_URL, f"verification method {method_id!r} has no fragment")
    document = resolver.resolve(did)
    if document.get("id") != did:
        raise DidError(
            DidFailure.NOT_FOUND, f"resolving {did} returned the document of {document.get('id')!r}"
        )
    authorised = document.get(relationship)
    if not isinstance(authorised, list):
        authorised = []
    embedded = [entry for entry in authorised if isinstance(entry, dict)]
    referenced = {entry for entry in authorised if isinstance(entry, str)}
    listed = document.get("verificationMethod")
    candidates = embedded + (listed if isinstance(listed, list) else [])
    method = next(
        (m for m in candidates if isinstance(m, dict) and _absolute(m.get("id"), did) == method_id),
        None,
    )
    if method is None:
        raise DidError(DidFailure.NOT_FOUND, f"{did} has no verification method {method_id}")
    is_referenced = any(_absolute(ref, did) == method_id for ref in referenced)
    if method not in embedded and not is_referenced:
        raise DidError(DidFailure.NOT_FOUND, f"{method_id} is not authorised for {relationship} by {did}")
    if method.get("type") != "Multikey":
        raise DidError(
            DidFailure.UNSUPPORTED_PUBLIC_KEY_TYPE,
            f"{method_id} is a {method.get('type')!r}, expected an Ed25519 Multikey",
        )
    controller = method.get("controller")
    if controller != did:
        raise DidError(DidFailure.NOT_FOUND, f"{method_id} is controlled by {controller!r}, not by {did}")
    try:
        public_key = multikey_decode(str(method.get("publicKeyMultibase", "")))
    except MultikeyError as exc:
        raise DidError(DidFailure.INVALID_PUBLIC_KEY, f"{method_id}: {exc}") from exc
    return VerificationMethod(method_id, did, public_key)


def _absolute(reference: object, did: str) -> str | None:
    """A verification method id as an absolute DID URL (relative `#frag` ids are allowed)."""
    if not isinstance(reference, str):
        return None
    return did + reference if reference.startswith("#") else reference
