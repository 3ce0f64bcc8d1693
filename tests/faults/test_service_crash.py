"""A service process killed in the middle of a command leaves the whole commit or nothing, and a retry
of the same command records it exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from nats.aio.client import Client as NATS

from shared.commands import CommandClient, CommandUnavailable
from shared.jetstream import EventStore, StreamSettings
from shared.signing import SigningKey
from shared.subjects import StreamSubjects
from shared.testkit.plugin import unique_service
from tests.faults.ledger_service import commit_id

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def ledger_process(
    url: str, service: str, key: SigningKey, crash_at: str | None = None
) -> AsyncIterator[asyncio.subprocess.Process]:
    args = ["-m", "tests.faults.ledger_service", url, service, "--seed", key.seed.hex()]
    if crash_at:
        args += ["--crash-at", crash_at]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        assert proc.stderr is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        if line.strip() != b"ready":
            raise AssertionError(f"ledger service did not start: {(await proc.stderr.read()).decode()}")
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


@pytest.mark.parametrize(
    ("crash_at", "stored_before_retry"),
    [("received", False), ("mid-batch", False), ("stored", True)],
)
async def test_a_service_killed_mid_command_leaves_all_or_nothing_and_a_retry_records_it_once(
    nc: NATS, nats_url: str, crash_at: str, stored_before_retry: bool
) -> None:
    service = unique_service("ledger")
    key = SigningKey.generate()
    settings = StreamSettings(StreamSubjects.for_service(service))
    transfer = {"transfer_id": "t-1", "source": "alice", "target": "bob", "amount": 25}
    client = CommandClient(nc, timeout=10)

    async with ledger_process(nats_url, service, key, crash_at) as proc:
        with pytest.raises(CommandUnavailable):  # the process dies before it answers
            await CommandClient(nc, timeout=2).call(service, "transfer", transfer)
        assert await asyncio.wait_for(proc.wait(), 30) == -signal.SIGKILL

    store = await EventStore(nc, settings, key).start()
    debit_subject = settings.subjects.aggregate("bank", "account", "alice")
    credit_subject = settings.subjects.aggregate("bank", "account", "bob")
    debits = await store.read_aggregate(debit_subject)
    credits = await store.read_aggregate(credit_subject)
    assert len(debits) == len(credits) == (1 if stored_before_retry else 0), "a partial commit was stored"

    async with ledger_process(nats_url, service, key):
        result = await client.call(service, "transfer", transfer)
    assert result["replayed"] is stored_before_retry

    debits = await store.read_aggregate(debit_subject)
    credits = await store.read_aggregate(credit_subject)
    assert [c.commit.commit_id for c in debits] == [commit_id("t-1", "alice")]
    assert [c.commit.commit_id for c in credits] == [commit_id("t-1", "bob")]
    assert sorted(result["seqs"]) == sorted([debits[0].seq, credits[0].seq])

    # the same commits sent again (by an instance that never saw them) are acknowledged, not stored again
    fresh = await EventStore(nc, settings, key).start()
    assert await fresh.append([debits[0].commit, credits[0].commit]) == [debits[0].seq, credits[0].seq]
    info = await nc.jetstream().stream_info(settings.subjects.stream)
    assert info.state.messages == 2
    await fresh.close()
    await store.close()
    await nc.jetstream().delete_stream(settings.subjects.stream)
