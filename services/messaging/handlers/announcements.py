"""Announcements: compose, segment, schedule, send (signed by the community), inbox, email, welcome."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from dataclasses import replace
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from services.messaging.adapters.mailer import OutgoingMail
from services.messaging.domain.announcement import (
    Announcement,
    announcement_credential,
    announcement_id,
    in_audience,
    require_everyone,
)
from services.messaging.domain.commands import (
    AnnouncementBody,
    ArchiveQuery,
    ComposeBody,
    EmailBody,
    EmailLink,
    EmptyBody,
    PublicBody,
    Query,
    Signed,
    VerifyEmail,
    WelcomeBody,
)
from services.messaging.domain.content import check_body, check_name, check_title
from services.messaging.domain.errors import Forbidden, Invalid, Missing
from services.messaging.domain.events import Audience, EmailBounced, Statement
from services.messaging.domain.links import masked
from services.messaging.domain.participant import Participant, participant_id
from services.messaging.domain.settings import MessagingSettings as SettingsAggregate
from services.messaging.domain.settings import settings_id
from services.messaging.handlers.base import NS, HandlerBase, new_id, rfc3339
from services.messaging.handlers.digests import digest_view
from services.messaging.projections.inbox import Sent
from shared.domain import DomainError
from shared.rendering import render
from shared.retry import acted
from shared.trust.datetimes import parse_datetime
from shared.trust.errors import TrustError

log = logging.getLogger(__name__)
_EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9.\-]{1,252}\.[A-Za-z]{2,63}$")
MAX_SEGMENT = 20
MAX_ARCHIVE_PAGE = 100
_CURSOR = re.compile(r"^(\d{1,20})-([A-Za-z0-9_\-]{1,64})$")


class EmailUnavailable(DomainError):
    status = 503


class AnnouncementHandlers(HandlerBase):
    # -- compose and send ------------------------------------------------------------------------

    async def compose_announcement(self, command: Signed) -> dict[str, Any]:
        act = await self.act(command, "compose_announcement")
        self.require_admin(act)
        body = self.body(act, ComposeBody)
        title, text = check_title(body.title), check_body(body.body)
        audience = Audience(
            roles=_segment(body.audience.roles, "roles"),
            types=_segment(body.audience.types, "types"),
            tags=_segment(body.audience.tags, "tags"),
        )
        if body.public:
            require_everyone(audience)  # refused before anything is recorded
        send_at = _instant(body.send_at) if body.send_at else 0
        if send_at and send_at <= act.now:
            send_at = 0  # a time already past means now
        ident = new_id(body.announcement)
        announcement = await self.load_or_new(Announcement, announcement_id(act.community, ident))
        announcement.draft(
            title=title,
            body=text,
            audience=audience,
            send_at_ns=send_at,
            by=act.did,
            statement=act.document,
            now=act.now,
        )
        if body.public:  # in the same commit as the draft (and the sending)
            announcement.set_public(public=True, by=act.did, statement=act.document, now=act.now)
        if body.draft or send_at:
            await self.save(announcement)
            return self.announcement_view(announcement)
        return await self._send(act.community, announcement, act.did, act.document, act.now)

    async def send_announcement(self, command: Signed) -> dict[str, Any]:
        act = await self.act(command, "send_announcement")
        self.require_admin(act)
        announcement = await self._announcement(act.community, self.body(act, AnnouncementBody).announcement)
        return await self._send(act.community, announcement, act.did, act.document, act.now)

    async def cancel_announcement(self, command: Signed) -> dict[str, Any]:
        act = await self.act(command, "cancel_announcement")
        self.require_admin(act)
        announcement = await self._announcement(act.community, self.body(act, AnnouncementBody).announcement)
        announcement.cancel(by=act.did, statement=act.document, now=act.now)
        await self.save(announcement)
        return self.announcement_view(announcement)

    async def set_announcement_public(self, command: Signed) -> dict[str, Any]:
        """Put an announcement to every member in the public archive, or take it out (at once:
        the archive's next read no longer lists it). A change of nothing records nothing."""
        act = await self.act(command, "set_announcement_public")
        self.require_admin(act)
        body = self.body(act, PublicBody)
        for attempt in range(3):  # its email results may be recorded on it meanwhile
            announcement = await self._announcement(act.community, body.announcement)
            changed = announcement.set_public(
                public=body.public, by=act.did, statement=act.document, now=act.now
            )
            if not changed:
                break
            try:
                await self.save(announcement)
                break
            except DomainError as exc:
                if exc.code != "conflict" or attempt == 2:
                    raise
        return self.announcement_view(announcement) | {"changed": changed}

    async def _announcement(self, community: str, ident: str) -> Announcement:
        return await self.find(
            Announcement,
            announcement_id(community, ident),
            "unknown_announcement",
            "such announcement",
        )

    async def _send(
        self, community: str, announcement: Announcement, by: str, statement: Statement, now: int
    ) -> dict[str, Any]:
        """Commit the recipients (in good standing and in the audience now) and the community's
        signature, then notify them live and mail those who opted in."""
        announcement.require_unsent()
        await self.sync_members()
        recipients = tuple(
            r.did
            for r in self.members.in_good_standing(community, now)
            if in_audience(announcement.audience, r.roles, r.membership_type, r.tags)
        )
        document = await self._signed(
            community,
            announcement.announcement,
            announcement.title,
            announcement.body,
            announcement.audience,
            by,
            now,
        )
        announcement.send(recipients=recipients, document=document, by=by, statement=statement, now=now)
        await self.save(announcement)
        audience = announcement.audience
        await self.notify(
            community,
            {
                "kind": "announcement",
                "announcement": announcement.announcement,
                "audience": {
                    "roles": list(audience.roles),
                    "types": list(audience.types),
                    "tags": list(audience.tags),
                },
            },
        )
        emails = await self.read(lambda: {did: self.inbox.email_of(community, did) for did in recipients})
        mails = [
            (did, self._announcement_mail(community, did, email, announcement))
            for did, email in emails.items()
            if email
        ]
        if mails and self.mailer is not None:
            self.background(self._email(community, announcement.announcement, mails))
        view = self.announcement_view(announcement)
        view["emailing"] = len(mails) if self.mailer is not None else 0
        return view

    async def _signed(
        self, community: str, ident: str, title: str, body: str, audience: Audience | None, by: str, now: int
    ) -> dict[str, Any]:
        issuer = await self.signer.community_did(community)
        unsigned = announcement_credential(
            community=community,
            issuer=issuer,
            announcement=ident,
            title=title,
            body=body,
            audience=audience,
            author=by,
            issued=rfc3339(now),
        )
        return await self.signer.sign(community, unsigned)

    def _announcement_mail(
        self, community: str, member: str, email: str, announcement: Announcement
    ) -> OutgoingMail:
        base = self.settings.public_base_url
        inbox = f"{base}/app/#/announcements?" + urlencode({"a": announcement.announcement, "c": community})
        text = f"{announcement.body}\n\n--\nRead it in the community: {inbox}"
        html = f'{render(announcement.body)}<hr><p><a href="{escape(inbox)}">Read it in the community</a></p>'
        headers = {"X-Announcement": announcement.announcement}
        mail = self.community_mail(community, member, email, announcement.title, text, html, **headers)
        return replace(mail, attachment=announcement.document)

    async def _email(self, community: str, ident: str, mails: list[tuple[str, OutgoingMail]]) -> None:
        """Mail the opted-in recipients and record, per member, what the SMTP server answered."""
        assert self.mailer is not None
        results = await self.mailer.send([mail for _, mail in mails])
        await self.record_bounces([mail for _, mail in mails], results)
        per_member = {did: results.get(mail.to, "failed: no answer") for did, mail in mails}
        for _ in range(3):
            announcement = await self._announcement(community, ident)
            announcement.record_email(per_member, self.clock())
            try:
                await self.save(announcement)
                return
            except DomainError as exc:
                if exc.code != "conflict":
                    raise
        log.error("delivery results of announcement %s could not be recorded", ident)

    async def send_due(self) -> int:
        """Send every scheduled announcement whose time has come (the scheduler calls this)."""
        now = self.clock()
        due = await self.read(lambda: self.inbox.due(now))
        if due:
            await self.sync_members()
        sent = 0
        for drafted in due:
            community = drafted.originator_id.split(".", 1)[0]
            announcement = await self._announcement(community, drafted.announcement)
            if not announcement.due(now):
                continue
            author = self.members.member(community, announcement.by)
            try:
                if author is None or author.standing(now) != "good" or "admin" not in author.roles:
                    announcement.cancel(by=announcement.by, statement=None, now=now)
                    await self.save(announcement)
                    log.warning(
                        "scheduled announcement %s cancelled: its author is no longer an admin", drafted
                    )
                    continue
                await self._send(community, announcement, announcement.by, None, now)
                sent += 1
            except DomainError as exc:  # another replica sent it, or the trust agent is away: next round
                log.warning("scheduled announcement %s not sent: %s", drafted.announcement, exc.message)
        return sent

    # -- the welcome message ---------------------------------------------------------------------

    async def configure_welcome(self, command: Signed) -> dict[str, Any]:
        act = await self.act(command, "configure_welcome")
        self.require_admin(act)
        body = self.body(act, WelcomeBody)
        title, text = check_title(body.title), check_body(body.body)
        ident = f"welcome-{act.now}"
        document = await self._signed(act.community, ident, title, text, None, act.did, act.now)
        settings = await self.load_or_new(SettingsAggregate, settings_id(act.community))
        settings.configure_welcome(
            announcement=ident,
            title=title,
            body=text,
            document=document,
            by=act.did,
            statement=act.document,
            now=act.now,
        )
        await self.save(settings)
        return {"announcement": ident, "title": title, "document": document}

    async def deliver_welcome(self, community: str, did: str, admitted_ns: int) -> bool:
        """On `membership.member_admitted`: the welcome configured before her admission, once."""
        configured, welcomed = await self.read(
            lambda: (self.inbox.welcome_configured_ns(community), self.inbox.welcomed(community, did))
        )
        if configured is None or configured > admitted_ns or welcomed:
            return False  # (a restart replays every admission: most are settled here, without a load)
        settings = await self.load_or_new(SettingsAggregate, settings_id(community))
        welcome = settings.welcome_for(admitted_ns)
        if welcome is None:
            return False
        participant = await self.load_or_new(Participant, participant_id(community, did))
        if not participant.deliver_welcome(did, welcome.announcement, admitted_ns, self.clock()):
            return False
        try:
            await self.save(participant)
        except DomainError:
            return False  # delivered concurrently (another replica)
        await self.notify(
            community, {"kind": "welcome", "announcement": welcome.announcement, "members": [did]}
        )
        return True

    # -- reading -------------------------------------------------------------------------------

    async def inbox_of(self, query: Query) -> dict[str, Any]:
        await self.reader(query.community, query.member)
        items = await self.read(lambda: self.inbox.inbox(query.community, query.member))
        return {
            "unread": sum(1 for i in items if not i["read"]),
            "announcements": items[: max(1, query.limit)],
        }

    async def announcement(self, query: Query) -> dict[str, Any]:
        record = await self.reader(query.community, query.member)
        sent = await self.read(lambda: self.inbox.find(query.community, query.member, query.announcement))
        if sent is None:
            if "admin" in record.roles:
                stats = await self.read(lambda: self.inbox.stats(query.community, query.announcement))
                if stats is not None:
                    found = await self._announcement(query.community, query.announcement)
                    return self.announcement_view(found) | {"html": render(found.body), "stats": stats}
            raise Missing("unknown_announcement", "there is no such announcement in your inbox")
        return {
            "announcement": sent.announcement,
            "title": sent.title,
            "body": sent.body,
            "html": render(sent.body),
            "by": sent.by,
            "at_ns": sent.at_ns,
            "welcome": sent.welcome,
            "read": query.member in sent.read_by,
            "document": sent.document,
            "public": not sent.welcome and self.inbox.is_public(query.community, sent.announcement),
        }

    async def announcement_stats(self, query: Query) -> dict[str, Any]:
        record = await self.reader(query.community, query.member)
        if "admin" not in record.roles:
            raise Forbidden("not_an_admin", "delivery statistics are for the community's admins")
        stats = await self.read(lambda: self.inbox.stats(query.community, query.announcement))
        if stats is None:
            raise Missing("unknown_announcement", "there is no such sent announcement")
        return stats

    async def announcements(self, query: Query) -> dict[str, Any]:
        """Drafts and scheduled announcements, for admins."""
        record = await self.reader(query.community, query.member)
        if "admin" not in record.roles:
            raise Forbidden("not_an_admin", "drafts are for the community's admins")
        pending = await self.read(lambda: self.inbox.pending(query.community))
        public = await self.read(
            lambda: {d.announcement: self.inbox.is_public(query.community, d.announcement) for d in pending}
        )
        sent = await self.read(lambda: self.inbox.sent(query.community, max(1, query.limit)))
        return {
            "sent": sent,
            "pending": [
                {
                    "announcement": d.announcement,
                    "title": d.title,
                    "by": d.by,
                    "send_at": rfc3339(d.send_at_ns) if d.send_at_ns else None,
                    "public": public.get(d.announcement, False),
                    "audience": {
                        "roles": list(d.audience.roles),
                        "types": list(d.audience.types),
                        "tags": list(d.audience.tags),
                    },
                }
                for d in pending
            ],
        }

    # -- the public archive (anyone, no session) -------------------------------------------------

    async def archive(self, query: ArchiveQuery) -> dict[str, Any]:
        """A page of the public archive, newest first, each with the community's signed document;
        `next` is the cursor of the following page (`before`), null on the last one."""
        community = await self._known_community(query.community)
        if not 1 <= query.limit <= MAX_ARCHIVE_PAGE:
            raise Invalid("invalid_request", f"limit is 1-{MAX_ARCHIVE_PAGE}")
        cursor = _cursor(query.before) if query.before else None
        items, changed = await self.read(
            lambda: (self.inbox.archive(community), self.inbox.archive_changed(community))
        )
        if cursor is not None:
            items = [s for s in items if (s.at_ns, s.announcement) < cursor]
        page = items[: query.limit]
        return {
            "community": await self._community_card(community, page),
            "announcements": [archive_entry(s) for s in page],
            "next": f"{page[-1].at_ns}-{page[-1].announcement}" if len(items) > len(page) else None,
            "updated": rfc3339(changed) if changed else None,
        }

    async def archived(self, query: ArchiveQuery) -> dict[str, Any]:
        """One announcement of the public archive; one that is not there (for a segment, never
        published, withdrawn, not sent yet, or none at all) is unknown, whichever it is."""
        community = await self._known_community(query.community)
        found = await self.read(lambda: self.inbox.archived(community, query.announcement))
        if found is None:
            raise Missing("unknown_announcement", "there is no such announcement in the public archive")
        return archive_entry(found) | {"community": await self._community_card(community, [found])}

    async def _known_community(self, community: str) -> str:
        self.community_token(community)
        await self.sync_members()
        if community not in self.members.communities:
            raise Missing("unknown_community", f"there is no community {community!r} here")
        return community

    async def _community_card(self, community: str, shown: list[Sent]) -> dict[str, Any]:
        """Its id, name and DID (the issuer its announcements verify against). When the trust
        agent does not answer, the issuer of an announcement shown; else null."""
        try:
            did: str | None = await self.signer.community_did(community)
        except DomainError:
            did = next((str(s.document.get("issuer")) for s in shown if s.document.get("issuer")), None)
        return {"id": community, "name": self.community_name(community), "did": did}

    async def mark_announcement_read(self, command: Signed) -> dict[str, Any]:
        act = await self.act(command, "mark_announcement_read")
        ident = self.body(act, AnnouncementBody).announcement
        sent = await self.read(lambda: self.inbox.find(act.community, act.did, ident))
        if sent is None:
            raise Missing("unknown_announcement", "there is no such announcement in your inbox")
        participant = await self.load_or_new(Participant, participant_id(act.community, act.did))
        if participant.mark_read(act.did, ident, act.document, act.now):
            await self.save(participant)
        return {"announcement": ident, "read": True}

    # -- email opt-in --------------------------------------------------------------------------

    async def subscribe_email(self, command: Signed) -> dict[str, Any]:
        act = await self.act(command, "subscribe_email")
        email = self.body(act, EmailBody).email.strip()
        if len(email) > 254 or not _EMAIL.match(email):
            raise Invalid("invalid_email", f"{email!r} is not an email address")
        if self.mailer is None:
            raise EmailUnavailable(
                "email_unavailable", "this community sends no email (no SMTP server configured)"
            )
        participant = await self.load_or_new(Participant, participant_id(act.community, act.did))
        token = secrets.token_urlsafe(32)
        expires = act.now + self.settings.verification_valid_s * NS
        participant.request_email(act.did, email, _hash(token), expires, act.document, act.now)
        link = (
            f"{self.settings.public_base_url}/c/{act.community}/messaging/email/verify"
            f"?member={quote(act.did, safe='')}&token={token}"
        )
        name = self.community_name(act.community)
        mail = OutgoingMail(
            to=email,
            subject=f"Confirm your address for {name}",
            text=f"To receive the mail of {name} at this address, open:\n\n{link}\n\n"
            "If you did not ask for this, ignore this message: nothing will be sent.\n",
            headers={"Auto-Submitted": "auto-generated"},
            sender_name=name,
        )
        result = (await self.mailer.send([mail])).get(email, "failed")
        acted()  # a lost race after this is not run again: no second link (its token not the one saved)
        if result != "sent":
            raise EmailUnavailable("email_undeliverable", f"the verification mail was not accepted: {result}")
        await self.save(participant)
        return {"status": "pending", "email": email}

    async def verify_email(self, command: VerifyEmail) -> dict[str, Any]:
        self.community_token(command.community)
        await self.sync_members()
        now = self.clock()
        self.members.require_good_standing(command.community, command.member, now)
        participant = await self.load_or_new(Participant, participant_id(command.community, command.member))
        email = participant.verify_email(command.member, _hash(command.token), now)
        await self.save(participant)
        return {"status": "verified", "email": email}

    async def email_status(self, query: Query) -> dict[str, Any]:
        """Her own opt-in: the verified address, one waiting for its link, and whether this
        community sends email at all (no SMTP server configured: it does not)."""
        await self.reader(query.community, query.member)
        participant = await self.load_or_new(Participant, participant_id(query.community, query.member))
        pending = participant.pending
        waiting = pending is not None and pending.expires_ns > self.clock()
        return {
            "available": self.mailer is not None,
            "email": participant.email or None,
            "pending": pending.email if waiting and pending is not None else None,
            "decide": participant.levels.get("decide", "normal"),
            "discuss": participant.levels.get("discuss", "normal"),
            "chat": participant.levels.get("chat", "normal"),
            "mail_delay_s": self.settings.mail_delay_s,  # forum and chat mails wait this long
            "digest": digest_view(participant),  # her summary by email
            "bounced": bounce_view(participant.bounced),  # the address the mail server refused
        }

    async def unsubscribe_email(self, command: Signed) -> dict[str, Any]:
        act = await self.act(command, "unsubscribe_email")
        self.body(act, EmptyBody)
        participant = await self.load_or_new(Participant, participant_id(act.community, act.did))
        participant.opt_out(act.did, act.document, act.now)
        await self.save(participant)
        return {"status": "unsubscribed"}

    async def email_link(self, command: EmailLink) -> dict[str, Any]:
        """The unsubscribe link of a mail (RFC 8058). Its secret is the proof, so no session and
        no standing is asked: a member suspended or gone may stop mail too. `confirm` false only
        tells whether the link is good and for which address (masked); true stops all mail from
        the community to it, recorded as `email_opted_out_by_link`. Following it again, or after
        mail was stopped another way, changes nothing and says so."""
        community = self.community_token(command.community)
        participant = await self.load_or_new(Participant, participant_id(community, command.member))
        links, name = self.links, self.community_name(community)
        if participant.email and links.matches(
            command.token, community, command.member, participant.email, participant.email_since_ns
        ):
            email = participant.email
            if command.confirm:
                participant.opt_out_by_link(command.member, self.clock())
                await self.save(participant)
                return {"status": "unsubscribed", "email": masked(email), "name": name, "changed": True}
            return {"status": "subscribed", "email": masked(email), "name": name, "changed": False}
        former = participant.former
        if former is not None and links.matches(command.token, community, command.member, *former):
            return {"status": "unsubscribed", "email": masked(former[0]), "name": name, "changed": False}
        raise Forbidden(
            "invalid_link",
            "this link is not valid, or the address it was mailed to no longer gets mail from this community",
        )

    @staticmethod
    def announcement_view(announcement: Announcement) -> dict[str, Any]:
        return {
            "announcement": announcement.announcement,
            "state": announcement.state,
            "title": announcement.title,
            "by": announcement.by,
            "send_at": rfc3339(announcement.send_at_ns) if announcement.send_at_ns else None,
            "recipients": len(announcement.recipients),
            "document": announcement.document or None,
            "public": announcement.public,
        }


def archive_entry(sent: Sent) -> dict[str, Any]:
    """An announcement as the public archive shows it: its HTML sanitised as the app renders it,
    and the document signed by the community exactly as recorded, for anyone to verify."""
    return {
        "id": sent.announcement,
        "title": sent.title,
        "body_html": render(sent.body),
        "sent_at": rfc3339(sent.at_ns),
        "document": sent.document,
    }


def bounce_view(bounced: EmailBounced | None) -> dict[str, str] | None:
    if bounced is None:
        return None
    return {"email": bounced.email, "said": bounced.said, "at": rfc3339(bounced.occurred_ns)}


def _segment(values: tuple[str, ...], what: str) -> tuple[str, ...]:
    if len(values) > MAX_SEGMENT:
        raise Invalid("invalid_request", f"an audience names at most {MAX_SEGMENT} {what}")
    return tuple(sorted({check_name(v, what) for v in values}))


def _instant(value: str) -> int:
    try:
        return int(parse_datetime(value).timestamp() * NS)
    except (TrustError, TypeError, ValueError) as exc:
        raise Invalid("invalid_request", f"not an RFC 3339 instant: {value!r}") from exc


def _cursor(value: str) -> tuple[int, str]:
    found = _CURSOR.match(value)
    if found is None:
        raise Invalid("invalid_request", f"not a cursor of the archive: {value!r}")
    return int(found.group(1)), found.group(2)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
