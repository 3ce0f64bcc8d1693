"""What every messaging use case shares: statements, the membership gate, atomic saves, live notices."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode, urlsplit

import msgspec

from services.messaging.adapters.live import LiveNotices
from services.messaging.adapters.mailer import Mailer, OutgoingMail, community_headers, hard_bounce
from services.messaging.adapters.membership_feed import MemberRecord, MembershipView
from services.messaging.adapters.polls import PollsReader
from services.messaging.adapters.signer import CommunitySigner
from services.messaging.application import MessagingApplication
from services.messaging.config import MessagingSettings
from services.messaging.domain.commands import Body, Signed
from services.messaging.domain.content import check_id
from services.messaging.domain.errors import Forbidden, Invalid
from services.messaging.domain.links import UnsubscribeLinks
from services.messaging.domain.participant import Participant, participant_id
from services.messaging.projections.chat import ChatView
from services.messaging.projections.forum import ForumView
from services.messaging.projections.inbox import InboxView
from services.messaging.projections.moderation import ModerationView
from shared.catchup import CatchUp
from shared.commands import CommandRejected
from shared.domain import Aggregate, DomainError, Event
from shared.retry import remember, remembered, saved
from shared.statements import Nonces, StatementRejected, VerifiedStatement, verify_statement
from shared.subjects import InvalidSubject, aggregate_subject
from shared.trust.datetimes import format_datetime

NS = 10**9
B = TypeVar("B", bound=Body)
R = TypeVar("R")
AG = TypeVar("AG", bound=Aggregate)
MODERATOR_ROLES = frozenset({"admin", "moderator"})


class Sync(Protocol):
    async def sync(self) -> None: ...


class Act:
    """A verified member act: who (her membership record), what (the statement), when."""

    def __init__(self, statement: VerifiedStatement, member: MemberRecord, now: int) -> None:
        self.statement = statement
        self.member = member
        self.now = now

    @property
    def did(self) -> str:
        return self.statement.actor

    @property
    def community(self) -> str:
        return self.statement.community

    @property
    def document(self) -> dict[str, Any]:
        return self.statement.document

    @property
    def roles(self) -> tuple[str, ...]:
        return self.member.roles

    @property
    def is_moderator(self) -> bool:
        return bool(MODERATOR_ROLES & set(self.member.roles))


def rfc3339(now_ns: int) -> str:
    return format_datetime(datetime.fromtimestamp(now_ns // NS, tz=UTC))


def new_id(chosen: str = "") -> str:
    return check_id(chosen, "id") if chosen else secrets.token_hex(10)


class HandlerBase:
    def __init__(
        self,
        app: MessagingApplication,
        members: MembershipView,
        signer: CommunitySigner,
        nonces: Nonces,
        *,
        feed: Sync | None = None,
        mailer: Mailer | None = None,
        live: LiveNotices | None = None,
        notices: LiveNotices | None = None,
        settings: MessagingSettings | None = None,
        clock: Callable[[], int] = time.time_ns,
        polls: PollsReader | None = None,
        links: UnsubscribeLinks | None = None,
    ) -> None:
        self.app = app
        self.members = members
        self.signer = signer
        self.nonces = nonces
        self.feed = feed
        self.mailer = mailer
        self.live = live
        self.notices = notices  # stored for mail (NOTICES), when this service sends email
        self.settings = settings or MessagingSettings()
        self.polls = polls  # Decide's part of summaries by email (governance), when it runs
        self.clock = clock
        # The unsubscribe link of every mail; replicas share its key (MESSAGING_LINK_KEY_FILE).
        # Without one given, a key of this process's own: its links die with it.
        self.links = links or UnsubscribeLinks(os.urandom(32))
        self.inbox = InboxView()
        self.forum = ForumView()
        self.chat = ChatView()
        self.moderation = ModerationView()
        self.catch_up = CatchUp(app, [self.inbox, self.forum, self.chat, self.moderation])
        self._background: set[asyncio.Task[Any]] = set()
        # Summaries by email (handlers/digests.py): when this replica last looked, and for whom it
        # has looked at which period already.
        self.digests_looked_ns = 0
        self.digests_looked_at: dict[tuple[str, str], str] = {}

    # -- mail a community sends -------------------------------------------------------------------

    def community_name(self, community: str) -> str:
        return self.members.community_name(community)

    def unsubscribe_url(self, community: str, member: str, email: str, since_ns: int) -> str:
        token = self.links.token(community, member, email, since_ns)
        query = urlencode({"member": member, "token": token})
        return f"{self.settings.public_base_url}/c/{community}/messaging/email/unsubscribe?{query}"

    def community_mail(
        self, community: str, member: str, to: str, subject: str, text: str, html: str = "", **headers: str
    ) -> OutgoingMail:
        """A mail the community sends to one member at her verified address: from the community's
        name, with her own one-click unsubscribe link in the headers and at the foot of the text."""
        name = self.community_name(community)
        stop = self.unsubscribe_url(community, member, to, self.inbox.email_since(community, member))
        text = f"{text}\nStop all email from {name}: {stop}\n"
        if html:
            stop_html = f'<a href="{escape(stop)}">Stop all email from {escape(name)}</a>'
            html = f'{html}<p style="font-size: small">{stop_html}</p>'
        host = urlsplit(self.settings.public_base_url).hostname or ""
        return OutgoingMail(
            to=to,
            subject=subject,
            text=text,
            html=html,
            sender_name=name,
            headers=community_headers(community, name, host, stop, **headers),
            community=community,
            member=member,
        )

    async def record_bounces(self, mails: list[OutgoingMail], results: dict[str, str]) -> int:
        """Stop mail to each member whose address the server refused for good (a hard bounce):
        recorded on her participant, so every replica stops, and her email settings say why."""
        stopped = 0
        for mail in mails:
            said = results.get(mail.to, "")
            if not (mail.community and mail.member) or not hard_bounce(said):
                continue
            for _ in range(3):
                participant = await self.load_or_new(Participant, participant_id(mail.community, mail.member))
                if not participant.bounce(mail.member, mail.to, said.removeprefix("refused: "), self.clock()):
                    break
                try:
                    await self.save(participant)
                    stopped += 1
                    break
                except DomainError as exc:
                    if exc.code != "conflict":
                        raise
        return stopped

    @staticmethod
    async def run(fn: Callable[..., R], *args: Any) -> R:
        return await asyncio.to_thread(fn, *args)

    async def find(self, aggregate_class: type[AG], aggregate_id: str, code: str, what: str) -> AG:
        """The aggregate, or a typed 404 naming `what`."""
        return await asyncio.to_thread(self.app.find, aggregate_class, aggregate_id, code, what)

    async def load_or_new(self, aggregate_class: type[AG], aggregate_id: str) -> AG:
        return await asyncio.to_thread(self.app.load_or_new, aggregate_class, aggregate_id)

    async def read(self, fn: Callable[[], R]) -> R:
        """Read the projections, caught up with everything recorded so far."""
        return await self.run(self.catch_up.query, fn)

    async def sync_members(self) -> None:
        if self.feed is not None:
            await self.feed.sync()

    # -- the gate --------------------------------------------------------------------------------

    @staticmethod
    def community_token(community: str) -> str:
        try:
            aggregate_subject("messaging", community, "community", "x")  # reserved names included
        except InvalidSubject as exc:
            raise Invalid("invalid_request", str(exc)) from exc
        return community

    async def act(self, command: Signed, action: str) -> Act:
        """Check the statement (signature, action, community, window), claim its nonce, and require
        its signer to be a member in good standing of that community now. An attempt run again
        after a lost race (`shared/retry.py`) reuses the statement the first one verified."""
        self.community_token(command.community)
        now = self.clock()
        earlier = remembered(action)
        try:
            statement = earlier or verify_statement(
                command.statement,
                action=f"messaging.{action}",
                community=command.community,
                now=datetime.fromtimestamp(now / NS, tz=UTC),
            )
        except StatementRejected as exc:
            raise CommandRejected(str(exc.code), exc.message, 401) from exc
        await self.sync_members()
        member = self.members.require_good_standing(command.community, statement.actor, now)
        if earlier is None:
            try:
                await self.nonces.claim(statement)
            except StatementRejected as exc:
                raise CommandRejected(str(exc.code), exc.message, 401) from exc
            remember(action, statement)
        return Act(statement, member, now)

    async def reader(self, community: str, did: str) -> MemberRecord:
        """The member asking to read, when she is in good standing (reads never reveal to others)."""
        self.community_token(community)
        await self.sync_members()
        return self.members.require_good_standing(community, did, self.clock())

    @staticmethod
    def body(act: Act, body_type: type[B]) -> B:
        try:
            return msgspec.convert(act.statement.body, body_type)
        except msgspec.ValidationError as exc:
            raise Invalid("invalid_request", f"statement body: {exc}") from exc

    @staticmethod
    def require_admin(act: Act) -> None:
        if "admin" not in act.roles:
            raise Forbidden("not_an_admin", f"{act.did} is not an admin of community {act.community}")

    @staticmethod
    def require_moderator(act: Act) -> None:
        if not act.is_moderator:
            raise Forbidden("not_a_moderator", "only the community's moderators and admins do this")

    def require_member(self, community: str, did: str, now: int, what: str) -> MemberRecord:
        record = self.members.member(community, did)
        if record is None or record.standing(now) != "good":
            raise Invalid(f"unknown_{what}", f"{did} is not a member in good standing of {community}")
        return record

    # -- recording -------------------------------------------------------------------------------

    async def save(self, *aggregates: Any) -> list[Event]:
        recorded = await self.run(self.app.save_or_conflict, *aggregates)
        saved()
        return recorded

    async def notify(self, community: str, notice: dict[str, Any]) -> None:
        if self.live is not None:
            await self.live.notify(community, notice)

    def background(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait for background work (email delivery) to finish: on stop, and in tests."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)
