"""did:webvh resolution: a verified log to the DID document of one version, with its metadata.

`resolve_webvh` is pure: it takes the log text (and a way to read the witness file) plus `now`.
`WebvhResolver` adds the fetching, through an injected `url -> bytes` callable, and plugs into
`MethodResolver` as the resolver of `did:webvh`. Query parameters `versionId`, `versionTime` and
`versionNumber` select an earlier version; an explicitly asked-for version that precedes a broken
entry is still served, as the spec's "Read (Resolve)" step 11 allows, but the default (latest)
version needs the whole log to verify.
"""

from __future__ import annotations

import copy
import urllib.parse
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.trust.datetimes import parse_datetime
from shared.trust.errors import DidError, DidFailure, WebvhError, WebvhFailure
from shared.trust.fetching import Fetcher, FetchError
from shared.trust.webvh_did import WebvhDid, parse_webvh_did
from shared.trust.webvh_verify import LogEntry, VerifiedLog, WitnessLoader, verify_log

__all__ = ["WebvhResolution", "WebvhResolver", "implicit_services", "resolve_webvh"]

JsonObject = dict[str, Any]
_LINKED_VP_CONTEXT = "https://identity.foundation/linked-vp/contexts/v1"
_QUERY_NAMES = ("versionId", "versionTime", "versionNumber")


@dataclass(frozen=True)
class WebvhResolution:
    """A resolved version: its DID document and the DID document metadata the spec lists."""

    document: JsonObject
    metadata: JsonObject

    @property
    def deactivated(self) -> bool:
        return bool(self.metadata.get("deactivated"))

    def to_json(self) -> JsonObject:
        """The DID Resolution result (`didDocument`, `didDocumentMetadata`, `didResolutionMetadata`)."""
        return {
            "didDocument": self.document,
            "didDocumentMetadata": self.metadata,
            "didResolutionMetadata": {"contentType": "application/did+ld+json"},
        }


def resolve_webvh(
    did_url: str, log: bytes | str, *, now: datetime, witness_file: WitnessLoader | None = None
) -> WebvhResolution:
    """Resolve a did:webvh DID, or a DID URL with a version query, from its log; WebvhError if not."""
    did, query = _split_did_url(did_url)
    parsed = _parse(did)
    verified = verify_log(log, now=now, witness_file=witness_file)
    return _resolve_verified(parsed, query, verified)


def implicit_services(parsed: WebvhDid, document: JsonObject) -> list[JsonObject]:
    """The document's services plus the implicit `#files` and `#whois` ones it does not define itself."""
    existing = document.get("service")
    services = list(existing) if isinstance(existing, list) else [] if existing is None else [existing]
    defined = {service.get("id") for service in services if isinstance(service, dict)}
    if not {"#files", f"{parsed.did}#files"} & defined:
        services.append({"id": "#files", "type": "relativeRef", "serviceEndpoint": parsed.directory_url})
    if not {"#whois", f"{parsed.did}#whois"} & defined:
        services.append(
            {
                "@context": _LINKED_VP_CONTEXT,
                "id": "#whois",
                "type": "LinkedVerifiablePresentation",
                "serviceEndpoint": parsed.directory_url + "whois.vp",
            }
        )
    return services


class WebvhResolver:
    """Resolves did:webvh DIDs by fetching `did.jsonl` (and `did-witness.json` when needed).

    `now` is the instant the logs are judged at (versionTime may not lie beyond it); the fetcher
    raises FetchError (or OSError) when a file cannot be read.
    """

    method = "webvh"

    def __init__(self, fetcher: Fetcher, *, now: datetime) -> None:
        self._fetch = fetcher
        self._now = now

    def resolve_url(self, did_url: str) -> WebvhResolution:
        """The full resolution of a DID or versioned DID URL; WebvhError with the reason if it fails."""
        did, query = _split_did_url(did_url)
        parsed = _parse(did)
        try:
            log = self._fetch(parsed.log_url)
        except (FetchError, OSError) as exc:
            raise WebvhError(WebvhFailure.NOT_FOUND, f"cannot read {parsed.log_url}: {exc}") from exc
        verified = verify_log(log, now=self._now, witness_file=lambda: self._witness_file(parsed))
        return _resolve_verified(parsed, query, verified)

    def resolve(self, did: str) -> JsonObject:
        """The current DID document (DidResolver protocol); a deactivated DID resolves to an error."""
        try:
            resolution = self.resolve_url(did)
        except WebvhError as exc:
            reason = DidFailure.NOT_FOUND if exc.reason.error_code == "notFound" else DidFailure.INVALID_DID
            raise DidError(reason, f"{exc} [{exc.reason}]") from exc
        if resolution.deactivated:
            raise DidError(DidFailure.DEACTIVATED, f"{did} has been deactivated by its controller")
        return resolution.document

    def _witness_file(self, parsed: WebvhDid) -> bytes | None:
        try:
            return self._fetch(parsed.witness_url)
        except (FetchError, OSError):
            return None


def _parse(did: str) -> WebvhDid:
    try:
        return parse_webvh_did(did)
    except DidError as exc:
        raise WebvhError(WebvhFailure.INVALID_DID, str(exc)) from exc


def _split_did_url(did_url: str) -> tuple[str, dict[str, str]]:
    # A fragment names something inside the document, not a version of it: it plays no part here.
    did, _, query_text = did_url.split("#", 1)[0].partition("?")
    if "/" in did:
        raise WebvhError(WebvhFailure.INVALID_DID, f"DID URL paths are not resolved here: {did_url!r}")
    query: dict[str, str] = {}
    for name, value in urllib.parse.parse_qsl(query_text, keep_blank_values=True):
        if name in _QUERY_NAMES:
            if name in query:
                raise WebvhError(WebvhFailure.VERSION_NOT_FOUND, f"{name} is given more than once")
            query[name] = value
    return did, query


def _resolve_verified(parsed: WebvhDid, query: dict[str, str], verified: VerifiedLog) -> WebvhResolution:
    entries = verified.entries
    if entries and entries[0].parameters.scid != parsed.scid:
        # A log for another SCID is never returned, whatever host served it.
        raise WebvhError(
            WebvhFailure.SCID_MISMATCH,
            f"the log is that of SCID {entries[0].parameters.scid}, not of {parsed.did}",
        )
    if entries and not any(entry.state.get("id") == parsed.did for entry in entries):
        raise WebvhError(WebvhFailure.DID_NOT_IN_LOG, f"no verified entry of the log is the DID {parsed.did}")
    chosen = _select(entries, query, verified.failure)
    latest = entries[-1]
    document = copy.deepcopy(chosen.state)
    document["service"] = implicit_services(parse_webvh_did(chosen.state["id"]), document)
    parameters = latest.parameters
    metadata: JsonObject = {
        "versionId": chosen.version_id,
        "versionTime": chosen.version_time_text,
        "versionNumber": chosen.version_number,
        "created": entries[0].version_time_text,
        "updated": latest.version_time_text,
        "scid": parameters.scid,
        "portable": parameters.portable,
        "deactivated": parameters.deactivated,
        "ttl": str(parameters.ttl),
        "witness": _witness_metadata(latest),
        "watchers": list(parameters.watchers),
    }
    return WebvhResolution(document=document, metadata=metadata)


def _witness_metadata(entry: LogEntry) -> JsonObject:
    # DID Resolution metadata carries no integers, hence the threshold as a string.
    witness = entry.parameters.witness.to_json()
    if witness:
        witness["threshold"] = str(witness["threshold"])
    return witness


def _select(entries: tuple[LogEntry, ...], query: dict[str, str], failure: WebvhError | None) -> LogEntry:
    if not query:
        if failure is not None:
            raise failure
        return entries[-1]
    candidates = list(entries)
    if "versionId" in query:
        candidates = [entry for entry in candidates if entry.version_id == query["versionId"]]
    if "versionNumber" in query:
        candidates = [entry for entry in candidates if str(entry.version_number) == query["versionNumber"]]
    if "versionTime" in query:
        active = _active_at(entries, query["versionTime"])
        candidates = [entry for entry in candidates if entry is active]
    if candidates:
        return candidates[0]
    if failure is not None and not _asks_before(entries, query):
        # The version may exist past the broken entry; it cannot be served, and the log is why.
        raise failure
    raise WebvhError(
        WebvhFailure.VERSION_NOT_FOUND, f"no verified version matches {urllib.parse.urlencode(query)}"
    )


def _active_at(entries: tuple[LogEntry, ...], text: str) -> LogEntry | None:
    try:
        moment = parse_datetime(text)
    except ValueError as exc:
        raise WebvhError(WebvhFailure.VERSION_NOT_FOUND, f"versionTime: {exc}") from exc
    active = [entry for entry in entries if entry.version_time <= moment]
    return active[-1] if active else None


def _asks_before(entries: tuple[LogEntry, ...], query: dict[str, str]) -> bool:
    """Whether the query names a version number that precedes the log's first verified entry."""
    number = query.get("versionNumber")
    return number is not None and (not number.isdigit() or int(number) < 1)
