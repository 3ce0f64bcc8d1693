"""Where the transparency log lives on NATS: which streams are logged, AUDIT subjects, commands."""

from __future__ import annotations

from shared.subjects import check_token

__all__ = [
    "AUDIT_STREAM",
    "COMMANDS",
    "LOGGED_STREAMS",
    "checkpoint_subject",
    "community_of",
    "key_subject",
    "origin",
    "stream_prefix",
]

# Every stream that holds commits, in the order a bundle lists them (AUDIT holds checkpoints).
LOGGED_STREAMS: tuple[str, ...] = ("IDENTITY", "MEMBERSHIP", "MESSAGING", "GOVERNANCE", "KNOWLEDGE", "SOCIAL")
AUDIT_STREAM = "AUDIT"
COMMANDS = "transparency"  # request/reply on `transparency.cmd.<name>`


def stream_prefix(stream: str) -> str:
    return stream.lower()


def checkpoint_subject(community: str, stream: str) -> str:
    """`audit.<community>.checkpoint.<stream>`: the community's checkpoints of one stream."""
    check_token(community, "community")
    return f"audit.{community}.checkpoint.{stream_prefix(stream)}"


def key_subject(community: str, key_id_hex: str) -> str:
    """`audit.<community>.key.<key id>`: a checkpoint verifier key the community's log was signed with."""
    check_token(community, "community")
    return f"audit.{community}.key.{key_id_hex}"


def community_of(subject: str) -> str:
    parts = subject.split(".")
    if len(parts) != 4:
        raise ValueError(f"subject {subject!r} is not <service>.<community>.<aggregate>.<id>")
    return parts[1]


def origin(deployment: str, community: str, stream: str) -> str:
    """The checkpoint origin line: `<deployment>/c/<community>/<stream, lower case>`."""
    return f"{deployment}/c/{community}/{stream_prefix(stream)}"
