"""Commands over NATS and member-signed statements: typed refusals, replay refused across replicas."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from nats.aio.client import Client as NATS

from shared.commands import CommandClient, CommandContext, CommandRejected, CommandRouter, CommandUnavailable
from shared.domain import DomainError
from shared.statements import (
    NonceRegistry,
    StatementFailure,
    StatementRejected,
    sign_statement,
    verify_statement,
)
from shared.subjects import aggregate_subject
from shared.testkit.plugin import unique_service
from shared.trust.member_keys import MemberKeys

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


class Greet(msgspec.Struct):
    community: str
    name: str


async def test_commands_answer_results_and_typed_refusals(nc: NATS) -> None:
    service = unique_service("svc")
    router = CommandRouter(service)

    @router.command("greet", Greet)
    async def greet(payload: Greet, ctx: CommandContext) -> dict[str, str]:
        if payload.name == "mallory":
            raise DomainError("not_welcome", "mallory is banned from this space")
        if payload.name == "boom":
            raise RuntimeError("bug")
        aggregate_subject(service, payload.community, "greeting", "x")  # refuses infrastructure names
        return {"hello": payload.name, "subject": ctx.subject}

    await router.start(nc)
    client = CommandClient(nc, timeout=5)
    assert await client.call(service, "greet", Greet("acme", "ada")) == {
        "hello": "ada",
        "subject": f"{service}.cmd.greet",
    }
    with pytest.raises(CommandRejected) as refused:
        await client.call(service, "greet", Greet("acme", "mallory"))
    assert (refused.value.type, refused.value.status) == ("not_welcome", 409)
    with pytest.raises(CommandRejected) as invalid:
        await client.call(service, "greet", {"community": "acme"})
    assert invalid.value.type == "invalid_request"
    assert "name" in invalid.value.message
    with pytest.raises(CommandRejected) as malformed:
        await client.call(service, "greet", b"{not json")
    assert malformed.value.type == "malformed_json"
    with pytest.raises(CommandRejected) as internal:
        await client.call(service, "greet", Greet("acme", "boom"))
    assert (internal.value.type, internal.value.status) == ("internal", 500)
    for reserved in ("cmd", "_tracking"):
        with pytest.raises(CommandRejected) as named:
            await client.call(service, "greet", Greet(reserved, "ada"))
        assert (named.value.type, named.value.status) == ("invalid_name", 422)
    with pytest.raises(CommandRejected) as big:
        await client.call(service, "greet", b"x" * (300 * 1024))
    assert big.value.status == 413
    assert router.refusals["not_welcome"] == 1
    with pytest.raises(CommandUnavailable):
        await client.call(service, "nothing_here", Greet("acme", "x"))
    await router.stop()


def statement(keys: MemberKeys, **overrides: object) -> dict[str, object]:
    args: dict[str, object] = {
        "action": "messaging.post",
        "community": "acme",
        "body": {"text": "hello"},
        "nonce": secrets.token_hex(16),
        "now": NOW,
    }
    args.update(overrides)
    return sign_statement(keys, **args)  # type: ignore[arg-type]


@pytest.fixture
def member() -> MemberKeys:
    from shared.signing import SigningKey

    return MemberKeys(SigningKey.generate())


def test_a_valid_statement_names_its_actor_and_body(member: MemberKeys) -> None:
    verified = verify_statement(statement(member), action="messaging.post", community="acme", now=NOW)
    assert verified.actor == member.did
    assert verified.body == {"text": "hello"}


@pytest.mark.parametrize(
    ("tamper", "presented", "code"),
    [
        (lambda d: d["body"].update(text="changed"), {}, StatementFailure.FORGED),
        (
            lambda d: d.update(actor="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
            {},
            StatementFailure.FORGED,
        ),
        (None, {"action": "governance.vote"}, StatementFailure.WRONG_ACTION),
        (None, {"community": "other"}, StatementFailure.WRONG_COMMUNITY),
        (None, {"now": NOW + timedelta(minutes=5)}, StatementFailure.EXPIRED),
        (None, {"now": NOW - timedelta(minutes=5)}, StatementFailure.NOT_YET_VALID),
        (lambda d: d.pop("nonce"), {}, StatementFailure.MALFORMED),
    ],
)
def test_bad_statements_are_refused_with_a_reason(
    member: MemberKeys, tamper: object, presented: dict[str, object], code: StatementFailure
) -> None:
    document = statement(member)
    if callable(tamper):
        tamper(document)
    check = {"action": "messaging.post", "community": "acme", "now": NOW, **presented}
    with pytest.raises(StatementRejected) as refused:
        verify_statement(document, **check)  # type: ignore[arg-type]
    assert refused.value.code == code


def test_a_long_window_is_refused(member: MemberKeys) -> None:
    document = statement(member, valid_for=timedelta(hours=1))
    with pytest.raises(StatementRejected) as refused:
        verify_statement(document, action="messaging.post", community="acme", now=NOW)
    assert refused.value.code == StatementFailure.WINDOW_TOO_LONG


async def test_a_nonce_is_accepted_once_by_every_replica(nc: NATS, nats_url: str, member: MemberKeys) -> None:
    import nats

    other = await nats.connect(nats_url)
    first, second = await NonceRegistry.open(nc), await NonceRegistry.open(other)
    verified = verify_statement(statement(member), action="messaging.post", community="acme", now=NOW)
    await first.claim(verified)
    with pytest.raises(StatementRejected) as replayed:
        await second.claim(verified)
    assert replayed.value.code == StatementFailure.REPLAYED
    await other.close()
