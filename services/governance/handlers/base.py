"""What every governance use case shares: statements, members, rolls, read models, atomic saves."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from services.governance.adapters.live import LiveNotices, NoLiveNotices
from services.governance.adapters.membership import MemberRecord, Membership, Roll
from services.governance.adapters.notices import Notices
from services.governance.application import GovernanceApplication
from services.governance.domain.merkle import roll_root
from services.governance.domain.poll import Poll, poll_id
from services.governance.domain.settings import GovernanceSettings, settings_id
from services.governance.projections.ballots import BallotsView
from services.governance.projections.polls import DelegationsView, PollsView
from shared.application import NotFound
from shared.catchup import OrderedCatchUp
from shared.clock import moment
from shared.commands import CommandRejected
from shared.domain import Aggregate, DomainError
from shared.retry import remember, remembered, saved
from shared.statements import Nonces, StatementRejected, VerifiedStatement, verify_statement
from shared.subjects import InvalidSubject, check_token

B = TypeVar("B", bound=msgspec.Struct)
R = TypeVar("R")
A = TypeVar("A", bound=Aggregate)
log = logging.getLogger(__name__)


class Forbidden(DomainError):
    status = 403


def token(value: str, what: str) -> str:
    try:
        return check_token(value, what)
    except InvalidSubject as exc:
        raise DomainError("invalid_request", str(exc)) from exc


def crypto_poll_id(community: str, poll: str) -> str:
    """What secret-ballot proofs are bound to: the community and the poll."""
    return f"{community}.poll.{poll}"


class HandlerBase:
    def __init__(
        self,
        app: GovernanceApplication,
        membership: Membership,
        nonces: Nonces,
        notices: Notices,
        clock: Callable[[], int] = time.time_ns,
        *,
        live: LiveNotices | None = None,
    ) -> None:
        self.app = app
        self.membership = membership
        self.nonces = nonces
        self.notices = notices
        self.live: LiveNotices = live or NoLiveNotices()
        self.clock = clock
        self.ballots = BallotsView()
        self.polls = PollsView()
        self.delegations = DelegationsView()
        self.catch_up = OrderedCatchUp(app, [self.ballots, self.polls, self.delegations])
        self._rolls: dict[str, frozenset[str]] = {}

    @staticmethod
    async def run(fn: Callable[..., R], *args: Any) -> R:
        return await asyncio.to_thread(fn, *args)

    async def verified(self, command: Any, action: str) -> VerifiedStatement:
        """The statement, checked (signature, action, community, window) and its nonce claimed;
        an attempt run again after a lost race (`shared/retry.py`) reuses the first one's."""
        token(command.community, "community")
        if (earlier := remembered(action)) is not None:
            return earlier
        try:
            statement = verify_statement(
                command.statement,
                action=f"governance.{action}",
                community=command.community,
                now=moment(self.clock()),
            )
            await self.nonces.claim(statement)
        except StatementRejected as exc:
            raise CommandRejected(str(exc.code), exc.message, 401) from exc
        remember(action, statement)
        return statement

    @staticmethod
    def body(statement: VerifiedStatement, body_type: type[B]) -> B:
        try:
            return msgspec.convert(statement.body, body_type)
        except msgspec.ValidationError as exc:
            raise DomainError("invalid_request", f"statement body: {exc}") from exc

    async def acting_member(self, community: str, did: str) -> MemberRecord:
        record = await self.membership.member(community, did)
        if record is None or not record.in_good_standing:
            raise Forbidden("not_a_member", f"{did} is not a member in good standing of {community}")
        return record

    def load_or_new(self, kind: type[A], aggregate_id: str) -> A:
        try:
            return self.app.load(kind, aggregate_id)
        except NotFound:
            return kind(aggregate_id)

    def settings(self, community: str) -> GovernanceSettings:
        return self.load_or_new(GovernanceSettings, settings_id(community))

    def poll(self, community: str, poll: str) -> Poll:
        token(poll, "poll")
        try:
            return self.app.load(Poll, poll_id(community, poll))
        except NotFound:
            raise NotFound("unknown_poll", f"there is no poll {poll!r} in {community}") from None

    async def save(self, *aggregates: Any) -> None:
        await self.run(self.app.save_or_conflict, *aggregates)
        saved()

    async def tell_live(self, community: str, notice: dict[str, Any]) -> None:
        """A live-only notice after a commit is saved (`adapters/live.py`): it never fails the command."""
        try:
            await self.live.notify(community, notice)
        except Exception:
            log.warning("live notice %s for %s not published", notice.get("kind"), community, exc_info=True)

    async def roll_of(self, poll: Poll) -> frozenset[str]:
        """The members on the poll's committed roll, fetched once and checked against its root."""
        cached = self._rolls.get(poll.snapshot)
        if cached is not None:
            return cached
        roll = await self.membership.get_snapshot(poll.community, poll.snapshot)
        self.check_roll(roll, poll.root, poll.size)
        members = frozenset(roll.members)
        self._rolls[poll.snapshot] = members
        return members

    @staticmethod
    def check_roll(roll: Roll, root: str | None = None, size: int | None = None) -> None:
        computed = roll_root(sorted(roll.members))
        if computed != roll.root or (root is not None and computed != root):
            raise DomainError("roll_mismatch", "the roll does not hash to its committed Merkle root")
        if len(roll.members) != roll.size or (size is not None and roll.size != size):
            raise DomainError("roll_mismatch", "the roll's size differs from the committed size")
