"""Voting use cases: casting (in person or as a proxy, open or secret) and delegating a vote."""

from __future__ import annotations

import secrets
from typing import Any

import msgspec

from services.governance.crypto import EncryptedBallot, verify_ballot
from services.governance.domain.ballot import Ballot, ballot_id
from services.governance.domain.commands import CastBody, DelegateBody, MemberQuery, RevokeBody, Signed
from services.governance.domain.delegation import Delegation, delegation_id
from services.governance.domain.poll import Poll
from services.governance.handlers.base import Forbidden, HandlerBase, crypto_poll_id, token
from services.governance.handlers.polls import PollHandlers, poll_key
from shared.application import NotFound
from shared.clock import instant, rfc3339
from shared.domain import DomainError

MAX_REASON = 2000


class VotingHandlers(PollHandlers, HandlerBase):
    async def cast_ballot(self, command: Signed) -> dict[str, Any]:
        statement = await self.verified(command, "cast_ballot")
        body = self.body(statement, CastBody)
        now = self.clock()
        poll = await self.run(self.poll, command.community, body.poll)
        poll.require_open(now)
        members = await self.roll_of(poll)
        voter, actor = body.on_behalf_of or statement.actor, statement.actor
        if voter not in members:
            raise Forbidden(
                "not_eligible", f"{voter} is not on the roll committed when poll {poll.poll} opened"
            )
        delegation = ""
        if voter != actor:
            delegation = await self.run(self.proxy_for, poll, voter, actor, members, now)
        choice, ballot, tracker = await self.run(self.checked_choice, poll, voter, body)
        aggregate = await self.run(self.load_or_new, Ballot, ballot_id(poll.community, poll.poll, voter))
        replaced = aggregate.casts > 0
        aggregate.cast(
            community=poll.community,
            poll=poll.poll,
            voter=voter,
            cast_by=actor,
            delegation=delegation,
            choice=choice,
            ballot=ballot,
            tracker=tracker,
            statement=statement.document,
            now=now,
        )
        await self.save(aggregate)
        answer: dict[str, Any] = {"poll": poll.poll, "voter": voter, "cast_by": actor, "replaced": replaced}
        if tracker:
            answer["tracker"] = tracker
        if poll.spec.close_early == "all_voted":  # the whole log as it is now: every ballot counts
            voted = await self.run(self.catch_up.query, lambda: len(self.ballots.poll(poll.id).current()))
        else:  # what the read model holds, without waiting for it, and this ballot
            voted = await self.run(self.voted_with, poll, voter)
        # Who voted is on the board every member reads: the screens open on the poll may redraw.
        await self.tell_live(
            poll.community,
            {"kind": "ballot_cast", "poll": poll.poll, "voter": voter, "cast_by": actor,
             "voted": voted, "eligible": poll.size},
        )  # fmt: skip
        everyone = poll.spec.close_early == "all_voted" and voted >= poll.size
        if everyone and await self.close_after_ballot(poll, "all_voted"):
            answer["closed"] = "all_voted"
        if poll.spec.close_early == "target_reached":  # count polls: as soon as enough are in
            ins = await self.run(self.catch_up.query, lambda: self.ballots.poll(poll.id).choosing(0))
            if ins >= poll.spec.count_target and await self.close_after_ballot(poll, "target_reached"):
                answer["closed"] = "target_reached"
        return answer

    async def close_after_ballot(self, poll: Poll, reason: str) -> bool:
        """Close a poll at the ballot that completed it (all voted, or the target reached). A ballot
        cast at the same moment, or the scheduler, may have closed it already: that is no refusal
        of this ballot, which is recorded."""
        for _ in range(3):
            latest = await self.run(self.poll, poll.community, poll.poll)
            if latest.status != "open":
                return False
            try:
                await self.close(latest, reason)
            except DomainError as exc:
                if exc.code != "conflict":
                    raise
                continue  # the poll changed meanwhile (closed, extended): look again
            return True
        return False

    def voted_with(self, poll: Poll, voter: str) -> int:
        """How many members have a ballot in the poll, counting `voter`'s just saved: for the live
        notice, so a cast does not wait for the read models while they follow the log (the board
        they answer, moments later, is exact); without a follower they apply the log first."""

        def read() -> int:
            ballots = self.ballots.poll(poll.id)
            return ballots.voters() + (0 if ballots.has_voted(voter) else 1)

        return self.catch_up.query(read, at_least=0 if self.catch_up.following else None)

    def proxy_for(self, poll: Poll, voter: str, proxy: str, members: frozenset[str], now: int) -> str:
        """The delegation that lets `proxy` vote for `voter` now, or a typed refusal."""
        if proxy not in members:
            raise Forbidden("not_eligible", f"proxy {proxy} is not on the poll's roll")

        def read() -> tuple[bool, str, set[str]]:
            """(a direct delegation exists, the proxy of a chain that would reach `proxy`, her load)."""
            direct = [
                d
                for d in self.delegations.active_from(poll.community, voter, poll.poll, now)
                if d.proxy == proxy
            ]
            chained = ""
            for step in self.delegations.active_from(poll.community, voter, poll.poll, now):
                onward = self.delegations.active_from(poll.community, step.proxy, poll.poll, now)
                if any(d.proxy == proxy for d in onward):
                    chained = step.proxy
            found = direct[0].delegation if direct else ""
            return bool(direct), found or chained, self.ballots.poll(poll.id).proxy_load(proxy)

        has_direct, delegation, load = self.catch_up.query(read)
        if not has_direct:
            if delegation:
                raise Forbidden(
                    "delegation_chain_refused",
                    f"{voter} delegated to {delegation}, not to {proxy}: proxies cannot pass votes on",
                )
            raise Forbidden("no_delegation", f"{voter} has not delegated her vote in this poll to {proxy}")
        if voter not in load and len(load) >= poll.proxy_limit:
            raise DomainError(
                "proxy_limit_reached",
                f"a proxy may vote for at most {poll.proxy_limit} members in this community",
            )
        return delegation

    def checked_choice(
        self, poll: Poll, voter: str, body: CastBody
    ) -> tuple[tuple[int, ...], dict[str, Any] | None, str]:
        if len(body.reason) > MAX_REASON:
            raise DomainError("invalid_reason", f"a reason has at most {MAX_REASON} characters")
        if body.reason.strip() and poll.spec.secret is not None:
            raise DomainError(
                "reason_not_secret", "a secret ballot carries no reason: it would be shown beside the voter"
            )
        if poll.spec.secret is None:
            if body.choice is None or body.ballot is not None:
                raise DomainError(
                    "invalid_choice", "this poll is open: give `choice`, not an encrypted ballot"
                )
            poll.spec.vector(body.choice)
            return tuple(body.choice), None, ""
        if body.ballot is None or body.choice is not None:
            raise DomainError(
                "invalid_ballot", "this poll is secret: give the encrypted `ballot`, not `choice`"
            )
        try:
            ballot = msgspec.convert(body.ballot, EncryptedBallot)
        except msgspec.ValidationError as exc:
            raise DomainError("invalid_ballot", f"not an encrypted ballot: {exc}") from exc
        if ballot.voter != voter or ballot.poll_id != crypto_poll_id(poll.community, poll.poll):
            raise DomainError("invalid_ballot", "the ballot is made for another voter or poll")
        check = verify_ballot(poll_key(poll), ballot)
        if not check.valid:
            raise DomainError("invalid_ballot", check.reason)
        return (), msgspec.to_builtins(ballot), check.tracker

    async def delegate(self, command: Signed) -> dict[str, Any]:
        """Record a member's signed DelegationCredential claim: her proxy for one poll or a period."""
        statement = await self.verified(command, "delegate")
        body = self.body(statement, DelegateBody)
        community, now = command.community, self.clock()
        await self.acting_member(community, statement.actor)
        proxy = await self.membership.member(community, body.proxy)
        if proxy is None or not proxy.in_good_standing:
            raise DomainError(
                "invalid_delegation", f"the proxy {body.proxy} is not a member in good standing"
            )
        poll = ""
        if body.poll is not None:
            poll = (await self.run(self.poll, community, body.poll)).poll
        valid_from = instant(body.valid_from, now)
        valid_until = instant(body.valid_until, 0)
        same = await self.run(
            self.catch_up.query,
            lambda: [
                d
                for d in self.delegations.involving(community, statement.actor)
                if d.delegator == statement.actor and d.proxy == body.proxy and not d.revoked
                and d.poll == poll
                and (poll or (d.valid_from_ns <= valid_from and valid_until <= d.valid_until_ns))
            ],
        )  # fmt: skip
        if same:
            raise DomainError(
                "already_delegated",
                f"this proxy already votes for you {'in this poll' if poll else 'for this whole period'}; "
                "revoke that delegation first to change it",
            )
        granted = Delegation.grant(
            community=community,
            delegation=secrets.token_hex(10),
            delegator=statement.actor,
            proxy=body.proxy,
            poll=poll,
            valid_from_ns=valid_from if not poll else 0,
            valid_until_ns=valid_until if not poll else 0,
            statement=statement.document,
            now=now,
        )
        await self.save(granted)
        return self.delegation_view(granted)

    async def revoke_delegation(self, command: Signed) -> dict[str, Any]:
        statement = await self.verified(command, "revoke_delegation")
        body = self.body(statement, RevokeBody)
        token(body.delegation, "delegation")
        try:
            delegation = await self.run(
                self.app.load, Delegation, delegation_id(command.community, body.delegation)
            )
        except NotFound:
            raise NotFound("unknown_delegation", f"there is no delegation {body.delegation!r}") from None
        delegation.revoke(statement.actor, statement.document, self.clock())
        await self.save(delegation)
        return self.delegation_view(delegation)

    async def delegations_of(self, query: MemberQuery) -> dict[str, Any]:
        token(query.community, "community")
        entries = await self.run(
            self.catch_up.query, lambda: self.delegations.involving(query.community, query.member)
        )
        return {
            "member": query.member,
            "delegations": [
                {"delegation": d.delegation, "delegator": d.delegator, "proxy": d.proxy,
                 "poll": d.poll or None,
                 "valid_from": rfc3339(d.valid_from_ns) if not d.poll else None,
                 "valid_until": rfc3339(d.valid_until_ns) if not d.poll else None, "revoked": d.revoked}
                for d in entries
            ],
        }  # fmt: skip

    @staticmethod
    def delegation_view(delegation: Delegation) -> dict[str, Any]:
        return {
            "delegation": delegation.key,
            "delegator": delegation.delegator,
            "proxy": delegation.proxy,
            "poll": delegation.poll or None,
            "valid_from": rfc3339(delegation.valid_from_ns) if not delegation.poll else None,
            "valid_until": rfc3339(delegation.valid_until_ns) if not delegation.poll else None,
            "revoked": delegation.revoked,
        }
