"""The Introducer at the service layer: consent, chat, bowing out, ratings, relationships, ripples."""

from __future__ import annotations

import pytest

from services.social.client.signing import (
    introducer_leave_request,
    introduction_chat_request,
    signed_relationship,
)
from services.social.domain.commands import MemberQuery, Signed
from shared.domain import DomainError

from .test_social_support import ident, person, world


async def test_an_introduction_connects_two_members_who_both_consent() -> None:
    w = world()
    ada, bea, cal = w.member("Ada"), w.member("Bea"), w.member("Cal")
    intro = ident()
    proposed = await w.handlers.propose_introduction(
        w.act(
            ada,
            "propose_introduction",
            {"introduction": intro, "first": bea.did, "second": cal.did, "note": "soil"},
        )
    )
    assert proposed["status"] == "proposed"
    pending = await w.handlers.network_of(MemberQuery(w.community, bea.did))
    assert [(c["did"], c["status"], c["waiting_for"]) for c in pending["contacts"]] == [
        (cal.did, "pending", "both")
    ]
    with pytest.raises(DomainError) as again:  # the same pair again, by anyone, while this one is open
        await w.handlers.propose_introduction(
            w.act(w.member("Dee"), "propose_introduction",
                  {"introduction": ident(), "first": cal.did, "second": bea.did})
        )  # fmt: skip
    assert again.value.code == "introduction_pending"

    with pytest.raises(DomainError) as not_hers:
        await w.handlers.answer_introduction(
            w.act(ada, "answer_introduction", {"introduction": intro, "consent": True})
        )
    assert not_hers.value.code == "not_introduced"
    body = {"introduction": intro, "consent": True, "relationship": signed_relationship(bea, ada.did)}
    with pytest.raises(DomainError) as wrong_edge:
        await w.handlers.answer_introduction(w.act(bea, "answer_introduction", body))
    assert wrong_edge.value.code == "invalid_relationship"

    half = await w.consent(bea, intro, cal)
    assert (half["status"], half["answers"]) == ("proposed", {bea.did: True})
    done = await w.consent(cal, intro, bea, introducer=ada)
    assert (done["status"], done["chat_status"], done["chat"]) == ("connected", "opened", f"intro-{intro}")
    assert w.chats.opened == [(w.community, f"intro-{intro}", sorted([bea.did, cal.did, ada.did]))]

    network = await w.handlers.network_of(MemberQuery(w.community, bea.did))
    assert [(c["did"], c["status"], c["introduction"]) for c in network["contacts"]] == [
        (cal.did, "connected", intro)
    ]

    assert done["introducer_in_chat"] is True
    wrong_pair = introducer_leave_request(ada, w.community, f"intro-{intro}", [bea.did, ada.did])
    with pytest.raises(DomainError) as sneaky:
        await w.handlers.leave_introduction(
            w.act(ada, "leave_introduction", {"introduction": intro, "chat": wrong_pair})
        )
    assert sneaky.value.code == "invalid_chat_request"
    goodbye = introducer_leave_request(ada, w.community, f"intro-{intro}", [bea.did, cal.did])
    left = await w.handlers.leave_introduction(
        w.act(ada, "leave_introduction", {"introduction": intro, "note": "over to you", "chat": goodbye})
    )
    assert (left["introducer_left"], left["introducer_in_chat"]) == (True, False)
    assert w.chats.left == [(w.community, f"intro-{intro}", ada.did)]
    with pytest.raises(DomainError) as twice:
        await w.handlers.leave_introduction(w.act(ada, "leave_introduction", {"introduction": intro}))
    assert twice.value.code == "already_left"

    await w.handlers.rate_introduction(w.act(bea, "rate_introduction", {"introduction": intro, "value": 5}))
    rated = await w.handlers.rate_introduction(
        w.act(cal, "rate_introduction", {"introduction": intro, "value": 4, "note": "useful"})
    )
    assert rated["ratings"] == {bea.did: 5, cal.did: 4}
    with pytest.raises(DomainError) as bad:
        await w.handlers.rate_introduction(
            w.act(cal, "rate_introduction", {"introduction": intro, "value": 9})
        )
    assert bad.value.code == "invalid_rating"
    with pytest.raises(DomainError) as introducer_rates:
        await w.handlers.rate_introduction(
            w.act(ada, "rate_introduction", {"introduction": intro, "value": 5})
        )
    assert introducer_rates.value.code == "not_introduced"


async def test_a_declined_introduction_records_no_relationship() -> None:
    w = world()
    ada, bea, cal = w.member("Ada"), w.member("Bea"), w.member("Cal")
    intro = ident()
    body = {"introduction": intro, "first": bea.did, "second": cal.did}
    await w.handlers.propose_introduction(w.act(ada, "propose_introduction", body))
    await w.consent(bea, intro, cal)
    declined = await w.handlers.answer_introduction(
        w.act(cal, "answer_introduction", {"introduction": intro, "consent": False, "reason": "not now"})
    )
    assert declined["status"] == "declined"
    with pytest.raises(DomainError) as closed:
        await w.consent(cal, intro, bea)
    assert closed.value.code == "introduction_closed"
    network = await w.handlers.network_of(MemberQuery(w.community, bea.did))
    assert (network["contacts"], network["hops"]) == ([], {})
    assert w.chats.opened == []


async def test_when_messaging_cannot_open_the_chat_it_stays_pending_until_retried() -> None:
    w = world()
    w.chats.available = False
    ada, bea, cal = w.member("Ada"), w.member("Bea"), w.member("Cal")
    intro = ident()
    body = {"introduction": intro, "first": bea.did, "second": cal.did}
    await w.handlers.propose_introduction(w.act(ada, "propose_introduction", body))
    await w.consent(bea, intro, cal)
    done = await w.consent(cal, intro, bea, introducer=ada)
    assert (done["status"], done["chat_status"], done["chat"]) == ("connected", "pending", None)

    def retry(members: list[str]) -> Signed:
        chat = introduction_chat_request(bea, w.community, intro, members)
        return w.act(bea, "retry_introduction_chat", {"introduction": intro, "chat": chat})

    with pytest.raises(DomainError) as still:
        await w.handlers.retry_introduction_chat(retry([bea.did, cal.did, ada.did]))
    assert still.value.code == "chat_unavailable"
    w.chats.available = True
    with pytest.raises(DomainError) as other_people:
        await w.handlers.retry_introduction_chat(retry([bea.did, cal.did, person().did]))
    assert other_people.value.code == "invalid_chat_request"
    opened = await w.handlers.retry_introduction_chat(retry([bea.did, cal.did, ada.did]))
    assert (opened["chat_status"], opened["chat"]) == ("opened", f"intro-{intro}")


async def test_introductions_are_among_members_of_the_community_only() -> None:
    w = world()
    ada, bea = w.member("Ada"), w.member("Bea")
    outsider = person()
    body = {"introduction": ident(), "first": bea.did, "second": outsider.did}
    with pytest.raises(DomainError) as refused:
        await w.handlers.propose_introduction(w.act(ada, "propose_introduction", body))
    assert refused.value.code == "not_a_member"
    body = {"introduction": ident(), "first": ada.did, "second": bea.did}
    with pytest.raises(DomainError) as self_intro:
        await w.handlers.propose_introduction(w.act(ada, "propose_introduction", body))
    assert self_intro.value.code == "invalid_introduction"


async def test_the_introducers_network_view_shows_the_ripples_of_her_introductions() -> None:
    w = world()
    ada, bea, cal, dan = (w.member(n) for n in ("Ada", "Bea", "Cal", "Dan"))
    first = ident()
    await w.handlers.propose_introduction(
        w.act(ada, "propose_introduction", {"introduction": first, "first": bea.did, "second": cal.did})
    )
    await w.consent(bea, first, cal)
    await w.consent(cal, first, bea)
    await w.handlers.rate_introduction(w.act(bea, "rate_introduction", {"introduction": first, "value": 4}))
    # Bea, newly connected, introduces Cal to Dan: a ripple of Ada's introduction
    second = ident()
    await w.handlers.propose_introduction(
        w.act(bea, "propose_introduction", {"introduction": second, "first": cal.did, "second": dan.did})
    )
    await w.consent(cal, second, dan)
    await w.consent(dan, second, cal)

    network = await w.handlers.network_of(MemberQuery(w.community, ada.did))
    [made] = network["introductions_made"]
    assert (made["introduction"], made["status"], made["value"]) == (first, "connected", 4.0)
    assert made["ripple"] == {"connections": [sorted([cal.did, dan.did])], "introductions": [second]}
    cal_view = await w.handlers.network_of(MemberQuery(w.community, cal.did))
    assert cal_view["hops"] == {"1": sorted([bea.did, dan.did])}
