"""The unsubscribe link's secret, and the headers every community mail carries."""

from __future__ import annotations

import email
import email.policy

import pytest

from services.messaging.adapters.mailer import OutgoingMail, SmtpMailer, community_headers
from services.messaging.domain.links import UnsubscribeLinks, masked

KEY = bytes(range(32))
ARGS = ("river", "did:key:z6MkBea", "bea@river.example", 1_700_000_000_000_000_000)


def test_a_token_is_the_same_on_every_replica_and_bound_to_each_part() -> None:
    links = UnsubscribeLinks(KEY)
    token = links.token(*ARGS)
    assert token == UnsubscribeLinks(bytes(KEY)).token(*ARGS)  # another replica, the same key file
    assert len(token) == 22
    assert "=" not in token
    assert links.matches(token, *ARGS)
    assert links.matches(token, "river", "did:key:z6MkBea", "Bea@River.example", ARGS[3])  # case
    for changed in (
        ("lake", *ARGS[1:]),
        ("river", "did:key:z6MkCy", *ARGS[2:]),
        ("river", "did:key:z6MkBea", "bea@lake.example", ARGS[3]),
        (*ARGS[:3], ARGS[3] + 1),  # the same address, confirmed again later
    ):
        assert not links.matches(token, *changed)
    assert not UnsubscribeLinks(bytes(32)).matches(token, *ARGS)  # another deployment's key
    assert not links.matches(token, "river", "did:key:z6MkBea", "", 0)  # no address: nothing to stop
    assert not links.matches("ü" * 22, *ARGS)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        UnsubscribeLinks(b"short")


def test_an_address_is_masked_for_the_page_anyone_with_the_link_may_open() -> None:
    assert masked("bea@river.example") == "b•••@river.example"
    assert masked("nonsense") == "•••"


def test_the_headers_say_who_sends_where_to_stop_and_that_no_person_wrote_it() -> None:
    headers = community_headers("river", 'Riverside "Food", Co-op', "cos.example", "https://x/stop?t=1")
    mail = OutgoingMail(
        to="bea@river.example",
        subject="AGM",
        text="Agenda",
        headers=headers,
        sender_name="Riverside\r\nBcc: all@river.example Co-op",
    )
    built = SmtpMailer("127.0.0.1", 25, "news@river.example").build(mail)
    parsed = email.message_from_bytes(bytes(built), policy=email.policy.default)
    assert parsed["List-Id"] == '"Riverside \\"Food\\", Co-op" <river.cos.example>'
    assert parsed["List-Unsubscribe"] == "<https://x/stop?t=1>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["Bcc"] is None  # a name cannot smuggle a header in
    assert parsed["From"].addresses[0].display_name == "Riverside Bcc: all@river.example Co-op"
    assert parsed["From"].addresses[0].addr_spec == "news@river.example"
