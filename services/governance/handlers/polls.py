"""Poll use cases: settings, starting a poll, the key ceremony, opening, closing, results, outcome."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import msgspec

from services.governance.crypto import (
    BallotCryptoError,
    BallotRules,
    DealerCommitment,
    DecryptionFailed,
    EncryptedBallot,
    EncryptedTally,
    PartialDecryption,
    PollKey,
    SealedShare,
    SecretShare,
    ShareRejected,
    TrusteeSetup,
    check_partial_decryption,
    check_sealed_shares,
    combine_partial_decryptions,
    election_public_key,
    tally_ballots,
    verification_keys,
    verify_dealer,
    verify_setup,
    verify_share,
)
from services.governance.crypto.group import point_hex
from services.governance.domain.commands import (
    CommunityQuery,
    ComplaintBody,
    CreatePollBody,
    ExtendBody,
    MemberPollsQuery,
    OutcomeBody,
    PartialBody,
    PollBody,
    PollQuery,
    RevealBody,
    SettingsBody,
    Signed,
    TrusteeBody,
)
from services.governance.domain.counting import (
    result_of_availability,
    result_of_rankings,
    result_of_totals,
)
from services.governance.domain.poll import Poll
from services.governance.handlers.base import Forbidden, HandlerBase, crypto_poll_id, token
from shared.clock import instant, rfc3339
from shared.domain import DomainError


def poll_key(poll: Poll) -> PollKey:
    return PollKey(
        poll_id=crypto_poll_id(poll.community, poll.poll),
        public_key=poll.public_key,
        rules=msgspec.convert(poll.spec.ballot_rules(), BallotRules),
    )


def trustee_setup(poll: Poll) -> TrusteeSetup:
    secret = poll.spec.secret
    assert secret is not None
    return TrusteeSetup(
        poll_id=crypto_poll_id(poll.community, poll.poll),
        threshold=secret.threshold,
        trustees=len(secret.trustees),
        dealers=tuple(
            msgspec.convert(poll.commitments[i], DealerCommitment) for i in sorted(poll.commitments)
        ),
    )


STALLED_NS = 60 * 10**9


log = logging.getLogger(__name__)


class PollHandlers(HandlerBase):
    async def configure_settings(self, command: Signed) -> dict[str, Any]:
        statement = await self.verified(command, "configure_settings")
        body = self.body(statement, SettingsBody)
        member = await self.acting_member(command.community, statement.actor)
        if "admin" not in member.roles:
            raise Forbidden("not_an_admin", f"{statement.actor} is not an admin of {command.community}")
        settings = await self.run(self.settings, command.community)
        settings.configure(
            community=command.community,
            proxy_limit=body.proxy_limit,
            poll_creators=body.poll_creators,
            by=statement.actor,
            statement=statement.document,
            now=self.clock(),
        )
        await self.save(settings)
        return {"proxy_limit": settings.proxy_limit, "poll_creators": settings.poll_creators}

    async def create_poll(self, command: Signed) -> dict[str, Any]:
        statement = await self.verified(command, "create_poll")
        body = self.body(statement, CreatePollBody)
        community, now = command.community, self.clock()
        member = await self.acting_member(community, statement.actor)
        settings = await self.run(self.settings, community)
        if settings.poll_creators == "admins" and "admin" not in member.roles:
            raise Forbidden("not_an_admin", "in this community only admins start polls")
        spec = body.spec.checked()
        for trustee in spec.secret.trustees if spec.secret else ():
            record = await self.membership.member(community, trustee)
            if record is None or not record.in_good_standing:
                raise DomainError("invalid_poll", f"trustee {trustee} is not a member in good standing")
        poll_name = token(body.poll or secrets.token_hex(8), "poll")
        poll = Poll.create(
            community=community,
            poll=poll_name,
            spec=spec,
            opens_ns=instant(body.opens_at, now),
            closes_ns=instant(body.closes_at, now),
            proxy_limit=settings.proxy_limit,
            by=statement.actor,
            statement=statement.document,
            now=now,
        )
        if await self.run(self.app.exists, Poll, poll.id):
            raise DomainError("poll_exists", f"there is already a poll {poll_name!r}")
        await self.save(poll)
        if spec.secret is not None:
            await self.notices.notify(
                community,
                {"kind": "key_requested", "poll": poll.poll, "title": spec.title,
                 "opens_at": rfc3339(poll.opens_ns), "recipients": sorted(spec.secret.trustees)},
            )  # fmt: skip
        return self.poll_view(await self.open_if_ready(poll))

    async def commit_trustee(self, command: Signed) -> dict[str, Any]:
        statement = await self.verified(command, "commit_trustee")
        body = self.body(statement, TrusteeBody)
        poll = await self.run(self.poll, command.community, body.poll)
        index = poll.trustee_index(statement.actor)
        secret = poll.spec.secret
        assert secret is not None
        try:
            commitment = msgspec.convert(body.commitment, DealerCommitment)
            verify_dealer(
                crypto_poll_id(poll.community, poll.poll), secret.threshold, len(secret.trustees), commitment
            )
        except (msgspec.ValidationError, BallotCryptoError) as exc:
            raise DomainError("invalid_commitment", f"trustee {index}: {exc}") from exc
        shares = None
        if body.shares is not None:
            try:
                sealed = msgspec.convert(body.shares, list[SealedShare])
                shares = msgspec.to_builtins(check_sealed_shares(sealed, index, len(secret.trustees)))
            except (msgspec.ValidationError, BallotCryptoError) as exc:
                raise DomainError("invalid_shares", f"trustee {index}: {exc}") from exc
        poll.commit_trustee(
            statement.actor, msgspec.to_builtins(commitment), statement.document, self.clock(), shares
        )
        await self.save(poll)
        await self.notices.notify(
            poll.community,
            {"kind": "trustee_committed", "poll": poll.poll, "title": poll.spec.title, "trustee": index,
             "recipients": sorted({*poll.trustees, poll.author})},
        )  # fmt: skip
        return self.poll_view(await self.open_if_ready(poll))

    async def complain_share(self, command: Signed) -> dict[str, Any]:
        """A trustee says the share a dealer sealed to her is missing, unreadable or false. Only she
        can open the box, so the complaint is her word; the dealer answers it in public."""
        statement = await self.verified(command, "complain_share")
        body = self.body(statement, ComplaintBody)
        poll = await self.run(self.poll, command.community, body.poll)
        if poll.spec.secret is None:
            raise DomainError("not_secret", f"poll {poll.poll} has no trustees")
        me = poll.complain(statement.actor, body.dealer, statement.document, self.clock())
        await self.save(poll)
        await self.notices.notify(
            poll.community,
            {"kind": "share_complained", "poll": poll.poll, "title": poll.spec.title, "trustee": me,
             "dealer": body.dealer, "recipients": sorted({poll.trustees[body.dealer - 1], poll.author})},
        )  # fmt: skip
        return self.poll_view(poll)

    async def reveal_share(self, command: Signed) -> dict[str, Any]:
        """The dealer answers a complaint with the share in the clear; it must match her commitments."""
        statement = await self.verified(command, "reveal_share")
        body = self.body(statement, RevealBody)
        poll = await self.run(self.poll, command.community, body.poll)
        me = poll.trustee_index(statement.actor)
        try:
            share = msgspec.convert(body.share, SecretShare)
            if (share.dealer, share.recipient) != (me, body.recipient):
                raise ShareRejected(me, body.recipient)
            commitment = msgspec.convert(poll.commitments.get(me), DealerCommitment)
            verify_share(commitment, share)
        except msgspec.ValidationError as exc:
            raise DomainError("invalid_share", f"the share is not a share: {exc}") from exc
        except BallotCryptoError as exc:  # ShareRejected, or a point that is not one
            raise DomainError(
                "invalid_share",
                f"this is not the share trustee {me} dealt trustee {body.recipient}: "
                "it does not match the commitments she published",
            ) from exc
        poll.reveal(
            statement.actor, body.recipient, msgspec.to_builtins(share), statement.document, self.clock()
        )
        await self.save(poll)
        await self.notices.notify(
            poll.community,
            {"kind": "share_revealed", "poll": poll.poll, "title": poll.spec.title, "trustee": body.recipient,
             "dealer": me, "recipients": sorted({poll.trustees[body.recipient - 1], poll.author})},
        )  # fmt: skip
        return self.poll_view(poll)

    async def open_if_ready(self, poll: Poll) -> Poll:
        """After her act is saved, open the poll if it is now ready. The scheduler may open it at
        the same moment: that is no refusal of her act, which is recorded; look again."""
        for _ in range(3):
            if not poll.ready_to_open(self.clock()):
                return poll
            try:
                await self.open(poll)
            except DomainError as exc:
                if exc.code != "conflict":
                    raise
                poll = await self.run(self.poll, poll.community, poll.poll)
                continue
            return poll
        return poll  # still changing under us: the scheduler opens it on its next tick

    async def open(self, poll: Poll) -> None:
        """Commit the roll through membership and open the poll on it (and on the trustees' key)."""
        roll = await self.membership.snapshot_roll(poll.community)
        self.check_roll(roll)
        public_key, setup = "", None
        if poll.spec.secret is not None:
            ceremony = trustee_setup(poll)
            try:
                verify_setup(ceremony)
            except BallotCryptoError as exc:
                raise DomainError("invalid_commitment", str(exc)) from exc
            public_key, setup = point_hex(election_public_key(ceremony)), msgspec.to_builtins(ceremony)
        poll.open(
            snapshot=roll.snapshot,
            root=roll.root,
            size=roll.size,
            roll_at_ns=roll.at_ns,
            public_key=public_key,
            setup=setup,
            now=self.clock(),
        )
        await self.save(poll)
        self._rolls[roll.snapshot] = frozenset(roll.members)
        opened: dict[str, Any] = {
            "kind": "poll_opened", "poll": poll.poll, "title": poll.spec.title,
            "closes_at": rfc3339(poll.closes_ns), "recipients": list(roll.members),
        }  # fmt: skip
        if poll.spec.kind == "meeting":  # the times go in the mail: she may know at once
            opened["times"] = list(poll.spec.options)
        if poll.spec.kind == "count":  # "we need 10": the mail says how many must be in
            opened["target"] = poll.spec.count_target
        await self.notices.notify(poll.community, opened)

    async def close_poll(self, command: Signed) -> dict[str, Any]:
        statement = await self.verified(command, "close_poll")
        body = self.body(statement, PollBody)
        poll = await self.run(self.poll, command.community, body.poll)
        poll.close("by_author", statement.actor, statement.document, self.clock())
        await self.save(poll)
        await self.finish(poll)
        return self.poll_view(poll)

    async def extend_poll(self, command: Signed) -> dict[str, Any]:
        """Her poll stays open longer (Loomio's "extend"): reminders follow the new close."""
        statement = await self.verified(command, "extend_poll")
        body = self.body(statement, ExtendBody)
        now = self.clock()
        poll = await self.run(self.poll, command.community, body.poll)
        poll.extend(instant(body.closes_at, 0), statement.actor, statement.document, now)
        await self.save(poll)
        return self.poll_view(poll)

    async def close(self, poll: Poll, reason: str) -> None:
        poll.close(reason, "governance-service", None, self.clock())
        await self.save(poll)
        await self.finish(poll)

    async def finish(self, poll: Poll) -> None:
        """After close: count an open poll at once; add up a secret one for the trustees."""
        counted = await self.run(self.catch_up.query, lambda: self.ballots.poll(poll.id).counted())
        casts = [cast for _, cast in counted]
        delegated = sum(1 for c in casts if c.cast_by != c.voter)
        if poll.spec.secret is None:
            if poll.spec.kind == "ranked":
                result = result_of_rankings(
                    poll.spec, [c.choice for c in casts], len(casts), poll.size, delegated
                )
            elif poll.spec.kind == "meeting":
                result = result_of_availability(
                    poll.spec, [c.choice for c in casts], len(casts), poll.size, delegated
                )
            else:
                totals = [
                    sum(column) for column in zip(*(poll.spec.vector(c.choice) for c in casts), strict=True)
                ]
                totals = totals or [0] * len(poll.spec.choices)
                result = result_of_totals(poll.spec, totals, len(casts), poll.size, delegated)
            poll.record_results(result, self.clock())
            await self.save(poll)
            await self.announce(poll)
            return
        key = poll_key(poll)
        ballots = [msgspec.convert(c.ballot, EncryptedBallot) for c in casts]
        tally = await self.run(tally_ballots, key, ballots)
        poll.record_encrypted_tally(msgspec.to_builtins(tally), len(casts), delegated, self.clock())
        await self.save(poll)
        await self.notices.notify(
            poll.community,
            {"kind": "decryption_requested", "poll": poll.poll, "title": poll.spec.title,
             "recipients": list(poll.trustees)},
        )  # fmt: skip

    async def submit_partial_decryption(self, command: Signed) -> dict[str, Any]:
        statement = await self.verified(command, "submit_partial_decryption")
        body = self.body(statement, PartialBody)
        poll = await self.run(self.poll, command.community, body.poll)
        index = poll.trustee_index(statement.actor)
        if poll.tally is None or poll.result is not None:
            raise DomainError("not_decrypting", "there is no encrypted tally waiting for decryption")
        tally = msgspec.convert(poll.tally["tally"], EncryptedTally)
        setup = trustee_setup(poll)
        try:
            partial = msgspec.convert(body.partial, PartialDecryption)
        except msgspec.ValidationError as exc:
            raise DomainError("invalid_partial_decryption", str(exc)) from exc
        key = verification_keys(setup)[index]
        if partial.trustee != index or not await self.run(check_partial_decryption, tally, key, partial):
            raise DomainError(
                "invalid_partial_decryption", f"trustee {index}: the factors or their proofs do not verify"
            )
        poll.submit_partial(
            statement.actor, msgspec.to_builtins(partial), True, statement.document, self.clock()
        )
        if len(poll.valid_partials) >= setup.threshold:
            partials = [msgspec.convert(p["partial"], PartialDecryption) for p in poll.valid_partials]
            try:
                decrypted = await self.run(
                    combine_partial_decryptions, setup, tally, partials, poll_key(poll).rules.max_per_option
                )
            except DecryptionFailed as exc:
                raise DomainError("decryption_failed", str(exc)) from exc
            voters, delegated = poll.tally["voters"], poll.tally["delegated"]
            totals = list(poll_key(poll).rules.full_counts(decrypted.counts, voters))
            result = result_of_totals(poll.spec, totals, voters, poll.size, delegated)
            result["trustees_used"] = list(decrypted.trustees_used)
            poll.record_results(result, self.clock())
        await self.save(poll)
        if poll.result is not None:
            await self.announce(poll)
        else:
            await self.notices.notify(
                poll.community,
                {"kind": "trustee_decrypted", "poll": poll.poll, "title": poll.spec.title, "trustee": index,
                 "recipients": sorted({*poll.trustees, poll.author})},
            )  # fmt: skip
        return self.poll_view(poll)

    async def announce(self, poll: Poll) -> None:
        members = await self.roll_of(poll)
        await self.notices.notify(
            poll.community,
            {"kind": "poll_closed", "poll": poll.poll, "title": poll.spec.title,
             "outcome": (poll.result or {}).get("outcome"), "recipients": sorted(members)},
        )  # fmt: skip

    async def state_outcome(self, command: Signed) -> dict[str, Any]:
        statement = await self.verified(command, "state_outcome")
        body = self.body(statement, OutcomeBody)
        poll = await self.run(self.poll, command.community, body.poll)
        poll.state_outcome(
            body.text, statement.actor, statement.document, self.clock(), body.slot, body.location
        )
        await self.save(poll)
        members = await self.roll_of(poll)
        notice: dict[str, Any] = {
            "kind": "outcome_stated", "poll": poll.poll, "title": poll.spec.title, "text": body.text,
            "recipients": sorted(members),
        }  # fmt: skip
        if (meeting := self.meeting_view(poll)) is not None:
            notice["meeting"] = meeting
        await self.notices.notify(poll.community, notice)
        return self.poll_view(poll)

    # -- the scheduler's tick ---------------------------------------------------------------------

    async def tick(self) -> int:
        """Open, remind and close what is due; returns how many polls changed."""
        now = self.clock()
        due = await self.run(self.catch_up.query, self.polls.active)
        changed = 0
        for entry in due:
            try:
                changed += await self.tick_one(entry.community, entry.poll, now)
            except DomainError as exc:
                if exc.code != "conflict":
                    raise
                # a member's act changed the poll meanwhile (and may have done this step): next tick
                log.info("poll %s/%s changed during the tick: looked at again", entry.community, entry.poll)
        return changed

    async def tick_one(self, community: str, name: str, now: int) -> int:
        """Open, remind or close one poll if it is due; 1 if it changed."""
        poll = await self.run(self.poll, community, name)
        if poll.status == "closed":
            # a count interrupted after the close commit is redone (not one still under way);
            # a secret poll waits for its trustees
            stalled = now - poll.closed_ns > STALLED_NS
            if stalled and (poll.spec.secret is None or poll.tally is None):
                await self.finish(poll)
                return 1
            return 0
        if poll.ready_to_open(now):
            await self.open(poll)
            return 1
        if poll.status == "open" and now >= poll.closes_ns:
            await self.close(poll, "close_time")
            return 1
        if poll.status == "open" and (reminders := poll.due_reminders(now)):
            members = await self.roll_of(poll)
            voted = await self.run(self.catch_up.query, lambda: set(self.ballots.poll(poll.id).current()))
            waiting = sorted(members - voted)
            for due_ns in reminders:
                poll.remind(due_ns, len(waiting), now)
            await self.save(poll)
            await self.notices.notify(
                poll.community,
                {"kind": "reminder", "poll": poll.poll, "title": poll.spec.title,
                 "closes_at": rfc3339(poll.closes_ns), "recipients": waiting},
            )  # fmt: skip
            return 1
        return 0

    # -- reading ----------------------------------------------------------------------------------

    async def get_poll(self, query: PollQuery) -> dict[str, Any]:
        poll = await self.run(self.poll, query.community, query.poll)
        return self.poll_view(poll)

    async def list_polls(self, query: CommunityQuery) -> dict[str, Any]:
        """The community's polls, each with its `discussion` link (None when it has none); with
        `thread`, only those whose link is that Discuss thread's in the app (`#/forums?thread=<id>`)."""
        token(query.community, "community")
        entries = await self.run(self.catch_up.query, lambda: self.polls.of(query.community))
        if query.thread is not None:
            entries = [e for e in entries if e.thread == query.thread]
        listed: dict[str, Any] = {
            "community": query.community,
            "polls": [
                {"poll": e.poll, "title": e.title, "kind": e.kind, "secret": e.secret, "status": e.status,
                 "opens_at": rfc3339(e.opens_ns), "closes_at": rfc3339(e.closes_ns),
                 "closed_at": rfc3339(e.closed_ns) if e.closed_ns else None,
                 "trustees_to_act": e.trustees_to_act(), "to_reveal": e.to_reveal(),
                 "discussion": e.discussion or None}
                for e in entries
            ],
        }  # fmt: skip
        if query.thread is not None:
            listed["thread"] = query.thread
        return listed

    async def member_polls(self, query: MemberPollsQuery) -> dict[str, Any]:
        """For a member's summary by email: the open polls on whose roll she is and where she has
        not voted (soonest closing first), and the polls decided since `since_ns`, with their outcome."""
        token(query.community, "community")
        entries = await self.run(self.catch_up.query, lambda: self.polls.of(query.community))
        awaiting, decided = [], []
        for entry in entries:
            if entry.status == "open":
                poll = await self.run(self.poll, query.community, entry.poll)
                if not poll.snapshot or query.member not in await self.roll_of(poll):
                    continue
                current = await self.run(
                    self.catch_up.query, lambda p=poll: self.ballots.poll(p.id).current()
                )
                if query.member not in current:
                    awaiting.append(
                        {"poll": entry.poll, "title": entry.title, "opens_at": rfc3339(entry.opens_ns),
                         "closes_at": rfc3339(entry.closes_ns)}
                    )  # fmt: skip
            elif entry.status == "decided" and query.since_ns < entry.closed_ns <= (
                query.until_ns or entry.closed_ns
            ):
                poll = await self.run(self.poll, query.community, entry.poll)
                decided.append(
                    {
                        "poll": entry.poll,
                        "title": entry.title,
                        "closed_at": rfc3339(entry.closed_ns),
                        "outcome": poll.outcome or None,
                    }
                )
        awaiting.sort(key=lambda p: (p["closes_at"], p["poll"]))
        return {
            "community": query.community,
            "member": query.member,
            "awaiting": awaiting,
            "decided": decided,
        }

    async def results(self, query: PollQuery) -> dict[str, Any]:
        """Live turnout while open; the final results with their breakdown once decided (a count
        poll also `count`: `in`, `out`, `target`, `reached`, live until the result has them)."""
        poll = await self.run(self.poll, query.community, query.poll)
        current = await self.run(self.catch_up.query, lambda: self.ballots.poll(poll.id).current())
        voters = len(current)
        view: dict[str, Any] = {
            "poll": poll.poll,
            "status": poll.status,
            "eligible": poll.size,
            "voted": voters,
            "delegated": sum(1 for b in current.values() if b.cast_by != b.voter),
            "turnout_pct": round(100 * voters / poll.size, 2) if poll.size else 0.0,
            "result": poll.result,
            "outcome": poll.outcome or None,
        }
        if poll.spec.kind == "count":
            view["count"] = self.count_view(poll, [b.choice for b in current.values()])
        return view

    @staticmethod
    def count_view(poll: Poll, choices: list[tuple[int, ...]]) -> dict[str, Any]:
        """A count poll's progress: who is in so far (the latest ballots, live) against its target;
        once counted, the result's figures (the ballots that count: those before the close)."""
        target = poll.spec.count_target
        if poll.result is not None:
            return {k: poll.result[k] for k in ("in", "out", "target", "reached")}
        ins = sum(1 for choice in choices if choice == (0,))
        return {"in": ins, "out": len(choices) - ins, "target": target, "reached": ins >= target}

    async def board(self, query: PollQuery) -> dict[str, Any]:
        """The public ballot board: every counted ballot (open choices with their signed reasons,
        or encrypted ballots and trackers), and who on the poll's roll has not voted (yet)."""
        poll = await self.run(self.poll, query.community, query.poll)
        current = await self.run(self.catch_up.query, lambda: self.ballots.poll(poll.id).current())
        entries = []
        for voter in sorted(current):
            cast = current[voter]
            entry: dict[str, Any] = {"voter": voter, "cast_by": cast.cast_by, "at": rfc3339(cast.occurred_ns)}
            if poll.spec.secret is None:
                entry["choice"] = list(cast.choice)
                entry["reason"] = _reason(cast.statement)
            else:
                entry["tracker"] = cast.tracker
                entry["ballot"] = cast.ballot
            entries.append(entry)
        # Who voted is public on the board in every kind of poll, so who did not is no secret either.
        not_voted = sorted(await self.roll_of(poll) - current.keys()) if poll.snapshot else []
        return {
            "poll": poll.poll,
            "secret": poll.spec.secret is not None,
            "ballots": entries,
            "not_voted": not_voted,
        }

    @staticmethod
    def meeting_view(poll: Poll) -> dict[str, Any] | None:
        """The meeting a meeting poll's outcome fixed, with when it was fixed and how often before
        (what a calendar file needs to replace an earlier version of itself)."""
        meeting = poll.meeting()
        if meeting is None:
            return None
        return meeting | {"fixed_at": rfc3339(poll.meeting_fixed_ns), "revision": poll.meeting_revision}

    @staticmethod
    def poll_view(poll: Poll) -> dict[str, Any]:
        view: dict[str, Any] = {
            "poll": poll.poll,
            "community": poll.community,
            "status": poll.status,
            "spec": msgspec.to_builtins(poll.spec),
            "options": list(poll.spec.choices),
            "author": poll.author,
            "opens_at": rfc3339(poll.opens_ns),
            "closes_at": rfc3339(poll.closes_ns),
            "closed_at": rfc3339(poll.closed_ns) if poll.closed_ns else None,
            "proxy_limit": poll.proxy_limit,
            "roll": {"snapshot": poll.snapshot, "root": poll.root, "size": poll.size}
            if poll.snapshot
            else None,
            "result": poll.result,
            "outcome": poll.outcome or None,
        }
        if poll.spec.kind == "meeting":
            view["meeting"] = PollHandlers.meeting_view(poll)
        if poll.spec.secret is not None:
            view["public_key"] = poll.public_key or None
            view["crypto_poll_id"] = crypto_poll_id(poll.community, poll.poll)
            view["ballot_rules"] = poll.spec.ballot_rules()
            view["trustees_committed"] = sorted(poll.commitments)
            # The public ceremony record, for trustees' apps and anyone checking: each trustee's
            # commitment, and the shares she dealt, sealed to the trustee each is for.
            view["commitments"] = [poll.commitments[i] for i in sorted(poll.commitments)]
            view["sealed_shares"] = [
                {"dealer": dealer, **share}
                for dealer in sorted(poll.sealed_shares)
                for share in poll.sealed_shares[dealer]
            ]
            # Complaints of dealt shares, each with the share its dealer revealed in answer (or null).
            view["complaints"] = [
                {"dealer": dealer, "recipient": recipient, "revealed": share}
                for (dealer, recipient), share in sorted(poll.complaints.items())
            ]
            view["encrypted_tally"] = poll.tally["tally"] if poll.tally else None
            view["partial_decryptions"] = sorted(poll.partials)
        return view


def _reason(statement: dict[str, Any] | None) -> str:
    """The reason she gave, as she signed it (the ballot event keeps her statement verbatim)."""
    body = (statement or {}).get("body")
    reason = body.get("reason", "") if isinstance(body, dict) else ""
    return reason.strip() if isinstance(reason, str) else ""
