"""What an index knows about one source: where it was signed, who wrote it, who may read it."""

from __future__ import annotations

from dataclasses import dataclass

from services.knowledge.domain.access import AccessRule


@dataclass(frozen=True)
class Citation:
    """The signed commit a passage comes from: anyone can fetch it by stream and sequence and
    check the service's signature (and, for documents, the member's statement inside it)."""

    stream: str
    subject: str
    seq: int
    commit_id: str
    signer: str  # the service instance key that signed the commit (did:key-style key id)
    topic: str  # the event that produced this version of the source
    timestamp_ns: int


@dataclass(frozen=True)
class Source:
    key: str  # "<kind>:<id>", unique within a community
    community: str
    kind: str  # announcement | post | poll | outcome | document
    title: str
    text: str
    author: str  # DID of whoever wrote or recorded it
    rule: AccessRule
    citation: Citation
    heading: str = ""  # the thread title of a reply, for instance
