"""A small ledger service for crash tests, run as its own process: `python -m tests.faults.ledger_service`.

`transfer` moves an amount between two accounts as one atomic append of two commits (a debit and
a credit), with commit ids derived from the transfer id so a retried transfer is recognised.
`--crash-at` makes the process kill itself (SIGKILL, as a crash would) at one point of the command:
`received` (before anything is written), `mid-batch` (after the first message of the two-message
batch has reached the server) or `stored` (after the append was acknowledged, before the reply).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import uuid
from typing import Any

import msgspec

from shared.commands import CommandContext, CommandRouter
from shared.envelope import EventRecord
from shared.jetstream import EventStore, StreamSettings
from shared.natsclient import Client, connect
from shared.signing import SigningKey
from shared.subjects import StreamSubjects

CRASH_POINTS = ("received", "mid-batch", "stored")
TRANSFERS = uuid.UUID("6f1c3a52-6c1d-4a53-9d7e-2f2f7d0c1a11")


class Transfer(msgspec.Struct, forbid_unknown_fields=True):
    transfer_id: str
    source: str
    target: str
    amount: int


def commit_id(transfer_id: str, account: str) -> str:
    return str(uuid.uuid5(TRANSFERS, f"{transfer_id}/{account}"))


def crash() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def crash_after_first_batch_message(nc: Client) -> None:
    """Let the first message of a batch reach the server, then die before the rest is sent."""
    publish = nc.publish

    async def publish_then_crash(
        subject: str, payload: bytes = b"", reply: str = "", headers: Any = None
    ) -> None:
        await publish(subject, payload, reply=reply, headers=headers)
        if headers and headers.get("Nats-Batch-Sequence") == "1":
            await nc.flush()
            crash()

    nc.publish = publish_then_crash  # type: ignore[method-assign]


async def serve(url: str, service: str, key: SigningKey, crash_at: str | None) -> None:
    nc = await connect(url)
    settings = StreamSettings(StreamSubjects.for_service(service))
    store = await EventStore(nc, settings, key, timeout=5).start()
    router = CommandRouter(service)

    @router.command("transfer", Transfer)
    async def transfer(command: Transfer, _: CommandContext) -> dict[str, Any]:
        histories = {
            account: await store.read_aggregate(settings.subjects.aggregate("bank", "account", account))
            for account in (command.source, command.target)
        }
        done = [
            c.seq
            for a, h in histories.items()
            for c in h
            if c.commit.commit_id == commit_id(command.transfer_id, a)
        ]
        if done:
            return {"seqs": sorted(done), "replayed": True}
        if crash_at == "received":
            crash()
        commits = [
            store.new_commit(
                community="bank",
                aggregate="account",
                ident=account,
                originator_id=f"bank.account.{account}",
                events=[
                    EventRecord(topic, len(histories[account]) + 1, msgspec.json.encode({"amount": amount}))
                ],
                commit_id=commit_id(command.transfer_id, account),
            )
            for account, topic, amount in (
                (command.source, "bank.debited.v1", command.amount),
                (command.target, "bank.credited.v1", command.amount),
            )
        ]
        if crash_at == "mid-batch":
            crash_after_first_batch_message(nc)
        seqs = await store.append(commits)
        if crash_at == "stored":
            crash()
        return {"seqs": seqs, "replayed": False}

    await router.start(nc)
    print("ready", flush=True)  # the test waits for this line
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("service")
    parser.add_argument("--seed", required=True, help="hex Ed25519 seed of the instance key")
    parser.add_argument("--crash-at", choices=CRASH_POINTS)
    args = parser.parse_args()
    asyncio.run(serve(args.url, args.service, SigningKey(bytes.fromhex(args.seed)), args.crash_at))


if __name__ == "__main__":
    main()
