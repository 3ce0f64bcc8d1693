"""Subject names on JetStream: `<service>.<community>.<aggregate>.<id>`, so a community is a filter."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "InvalidSubject",
    "StreamSubjects",
    "aggregate_subject",
    "check_token",
    "community_filter",
    "encode_token",
    "is_reserved_community",
]

_TOKEN = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")
RESERVED_PREFIX = "_"  # tokens starting with "_" name infrastructure, never a community
RESERVED_NAMES = frozenset({"cmd"})  # `<service>.cmd.<name>` carries commands


def is_reserved_community(name: str) -> bool:
    """Names that address infrastructure (`_tracking`, `cmd`), never a community."""
    return (name.startswith(RESERVED_PREFIX) and name != "_") or name in RESERVED_NAMES


class InvalidSubject(ValueError):
    """A name cannot be a subject token (empty, too long, or with `.`, `*`, `>`, spaces)."""


def check_token(value: str, what: str) -> str:
    """Return `value` when it is a valid subject token, else raise InvalidSubject naming `what`."""
    if not _TOKEN.match(value):
        raise InvalidSubject(
            f"{what} {value!r} must be 1-128 characters of A-Z a-z 0-9 _ - (no dots or spaces)"
        )
    return value


def encode_token(value: str) -> str:
    """A reversible token for an arbitrary name: itself when already valid, else `x` + hex."""
    if _TOKEN.match(value) and not value.startswith("x"):
        return value
    return "x" + value.encode("utf-8").hex()


def aggregate_subject(service: str, community: str, aggregate: str, ident: str) -> str:
    """The subject of one aggregate's commits."""
    check_token(service, "service")
    check_token(community, "community")
    if is_reserved_community(community):
        raise InvalidSubject(f"community {community!r} is a reserved name")
    check_token(aggregate, "aggregate type")
    check_token(ident, "aggregate id")
    return f"{service}.{community}.{aggregate}.{ident}"


def community_filter(community: str, service: str = "*") -> str:
    """The subject filter that selects everything one community has in one (or every) service."""
    check_token(community, "community")
    return f"{service}.{community}.>"


@dataclass(frozen=True)
class StreamSubjects:
    """The subject layout of one service's stream."""

    stream: str  # e.g. GOVERNANCE
    prefix: str  # e.g. governance

    @classmethod
    def for_service(cls, service: str) -> StreamSubjects:
        check_token(service, "service")
        return cls(stream=service.upper(), prefix=service.lower())

    @property
    def stored(self) -> list[str]:
        """What the stream stores: commits and tracking markers, never `<service>.cmd.*` requests."""
        return [self.commits, f"{self.prefix}._tracking.*"]

    @property
    def commits(self) -> str:
        """Every commit (four tokens), excluding infrastructure subjects such as tracking."""
        return f"{self.prefix}.*.*.*"

    def tracking(self, application_name: str) -> str:
        return f"{self.prefix}._tracking.{encode_token(application_name)}"

    def aggregate(self, community: str, aggregate: str, ident: str) -> str:
        return aggregate_subject(self.prefix, community, aggregate, ident)
