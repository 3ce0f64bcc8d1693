"""did:webvh identifiers: parse and check one, and map it to the HTTPS URL of its `did.jsonl`.

Implements the "Method-Specific Identifier" and "The DID to HTTPS Transformation" sections of
did:webvh v1.0: `did:webvh:<scid>:<domain>[%3A<port>][:<path>…]` becomes
`https://<domain>[:<port>]/<path…>/did.jsonl`, or `…/.well-known/did.jsonl` when there is no path.
Percent-encoding is decoded exactly once and validated; IP addresses (however spelled), dot
segments and separators smuggled in by encoding are refused with `invalidDid`, so a DID can never
make a resolver fetch from a place its text does not plainly name.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
import urllib.parse
from dataclasses import dataclass

from shared.trust.errors import DidError, DidFailure

__all__ = [
    "SCID_PLACEHOLDER",
    "WEBVH_PREFIX",
    "WebvhDid",
    "did_log_url",
    "did_witness_url",
    "parse_webvh_did",
    "webvh_did_template",
]

WEBVH_PREFIX = "did:webvh:"
SCID_PLACEHOLDER = "{SCID}"

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_SCID = re.compile(f"[{_BASE58}]{{46}}")
# DID Core idchar (ALPHA / DIGIT / "." / "-" / "_" / pct-encoded); non-ASCII letters are also let
# through because the specification's own internationalised example writes them unencoded.
_SEGMENT = re.compile(r"(?:[A-Za-z0-9._\-]|%[0-9A-Fa-f]{2}|[^\x00-\x7f])+")
_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_PORT_SUFFIX = re.compile(r"%3[Aa]([0-9]{1,5})$")
_LDH_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?")
_NUMERIC_LABEL = re.compile(r"(?:0[xX][0-9A-Fa-f]*|[0-9]+)")


@dataclass(frozen=True)
class WebvhDid:
    """A checked did:webvh DID: its SCID, the host and port it is served from, and its path."""

    did: str
    scid: str
    host: str
    port: int | None
    path: tuple[str, ...]

    @property
    def origin(self) -> str:
        """`https://host[:port]`, the host in its ASCII (IDNA) form."""
        return f"https://{self.host}" + (f":{self.port}" if self.port is not None else "")

    @property
    def directory_url(self) -> str:
        """The URL the DID's files sit under, ending in `/` (no `.well-known`): the `#files` base."""
        encoded = "".join(urllib.parse.quote(segment, safe="") + "/" for segment in self.path)
        return f"{self.origin}/{encoded}"

    @property
    def log_url(self) -> str:
        """Where the `did.jsonl` log is published."""
        if not self.path:
            return f"{self.origin}/.well-known/did.jsonl"
        return self.directory_url + "did.jsonl"

    @property
    def witness_url(self) -> str:
        """Where the `did-witness.json` file sits: beside the log."""
        return self.log_url.removesuffix("did.jsonl") + "did-witness.json"


def parse_webvh_did(did: str, *, allow_placeholder: bool = False) -> WebvhDid:
    """Parse and check a bare did:webvh DID (no path, query or fragment); DidError(invalidDid) if not.

    `allow_placeholder` accepts the literal `{SCID}` in the SCID position, as a DID being created has.
    """
    if not isinstance(did, str) or not did.startswith(WEBVH_PREFIX):
        raise _invalid(did, "it does not start with 'did:webvh:'")
    if any(mark in did for mark in "/?#"):
        raise _invalid(did, "a DID has no path, query or fragment; separate the DID URL first")
    scid, *rest = did.removeprefix(WEBVH_PREFIX).split(":")
    if not (_SCID.fullmatch(scid) or (allow_placeholder and scid == SCID_PLACEHOLDER)):
        raise _invalid(did, "the SCID is not 46 base58btc characters")
    if not rest:
        raise _invalid(did, "there is no domain after the SCID")
    for segment in rest:
        if not _SEGMENT.fullmatch(segment.replace(SCID_PLACEHOLDER, "x") if allow_placeholder else segment):
            raise _invalid(did, f"{segment!r} is empty or holds characters a DID may not")
    host, port = _domain(did, rest[0])
    path = tuple(_path_segment(did, segment) for segment in rest[1:])
    return WebvhDid(did=did, scid=scid, host=host, port=port, path=path)


def did_log_url(did: str) -> str:
    """The HTTPS URL of the `did.jsonl` log of a did:webvh DID (the spec's DID-to-HTTPS transformation)."""
    return parse_webvh_did(did).log_url


def did_witness_url(did: str) -> str:
    """The HTTPS URL of the `did-witness.json` file of a did:webvh DID."""
    return parse_webvh_did(did).witness_url


def webvh_did_template(host: str, *, port: int | None = None, path: tuple[str, ...] = ()) -> str:
    """The DID `did:webvh:{SCID}:host[%3Aport][:path…]` a new log starts from, checked.

    `host` is a domain name (Unicode or ASCII); `path` segments are given decoded and encoded here.
    """
    domain = urllib.parse.quote(host, safe=".-")
    if port is not None:
        domain += f"%3A{port}"
    segments = [urllib.parse.quote(segment, safe="") for segment in path]
    did = ":".join([WEBVH_PREFIX + SCID_PLACEHOLDER, domain, *segments])
    parse_webvh_did(did, allow_placeholder=True)
    return did


def _invalid(did: object, why: str) -> DidError:
    return DidError(DidFailure.INVALID_DID, f"not a valid did:webvh DID ({why}): {did!r}")


def _decode_once(did: str, text: str, what: str) -> str:
    if _PERCENT.search(text):
        raise _invalid(did, f"the {what} has a '%' that is not followed by two hex digits")
    try:
        return urllib.parse.unquote(text, errors="strict")
    except UnicodeDecodeError as exc:
        raise _invalid(did, f"the {what} percent-encodes bytes that are not UTF-8") from exc


def _domain(did: str, raw: str) -> tuple[str, int | None]:
    port: int | None = None
    match = _PORT_SUFFIX.search(raw)
    if match is not None:
        port = int(match[1])
        if not 1 <= port <= 65535:
            raise _invalid(did, f"port {port} is outside 1-65535")
        raw = raw[: match.start()]
    if "%3a" in raw.lower():
        raise _invalid(did, "the domain holds an encoded ':' that is not a port separator")
    name = unicodedata.normalize("NFC", _decode_once(did, raw, "domain"))
    labels = name.split(".")
    if len(labels) < 2 or not all(labels):
        raise _invalid(did, f"{name!r} is not a fully qualified domain name")
    if _NUMERIC_LABEL.fullmatch(labels[-1]) or _is_ip(name):
        # The WHATWG URL parser reads any host whose last label is a number as IPv4 (127.1, 0x7f.1).
        raise _invalid(did, f"{name!r} is an IP address, not a domain name")
    try:
        ascii_labels = [label.encode("idna").decode("ascii").lower() for label in labels]
    except UnicodeError as exc:
        raise _invalid(did, f"{name!r} is not a valid internationalised domain name") from exc
    if not all(_LDH_LABEL.fullmatch(label) for label in ascii_labels):
        raise _invalid(did, f"{name!r} has a label that is not letters, digits and inner hyphens")
    host = ".".join(ascii_labels)
    if len(host) > 253:
        raise _invalid(did, "the domain name is longer than 253 characters")
    return host, port


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def _path_segment(did: str, raw: str) -> str:
    segment = _decode_once(did, raw, "path")
    if segment in {".", ".."}:
        raise _invalid(did, "a path segment is '.' or '..'")
    if any(bad in segment for bad in ("/", "\\", "\x00")):
        raise _invalid(did, "a path segment decodes to '/', '\\' or NUL")
    if segment != segment.strip():
        raise _invalid(did, "a path segment begins or ends with white space")
    return segment
