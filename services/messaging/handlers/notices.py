"""Decide, Discuss and Chat by email: notices stored in the NOTICES stream, mailed to members who asked.

Governance stores each notice (a poll opened, a reminder, a result, a trustee's turn) in the
NOTICES stream with its recipients (`shared/notices.py`). Every messaging replica runs a worker of
one shared durable consumer on it (`shared/projection.py`), so each notice is mailed once by one of
them, and notices stored while messaging was down are mailed when it is back.

Who gets a mail: a recipient in good standing now, with a verified address (the opt-in of
announcements), at her `decide` level (`set_notification_level {scope: "decide"}`):
`normal` (the default) mails what asks her to act or tells her the result (a poll opened, a
reminder, her turn as trustee, a result); `watching` adds each trustee's progress; `muted` mails
nothing (the app still shows all of it). A nudge that can no longer be acted on is dropped: a poll
opened or a reminder whose poll has closed, anything older than two days.

Discuss and chat by email: a new forum post that notifies her, and a message in one of her private
conversations, are stored as notices too (`messaging.notice.<community>`, ids only). They wait
`mail_delay_s` (ten minutes by default) before they are mailed: the worker hands such a notice back
to the stream with the time it has left (`shared/projection.py`'s deferral), and when it comes
again mails it only to whom has not read it in the app meanwhile. So mail reaches those who are
away, not those reading along. A forum mail quotes the post. A chat mail cannot quote anything (the
server never sees a private message's text): it says who wrote and how many are unread, and is sent
once per unread run, for her earliest unread message, however many follow before she reads them.

Delivery is at least once: when the SMTP server cannot be reached at all the batch is handed back
and tried again later (with a growing delay); a mail the server refused for one address is not
retried. A worker that dies between sending and acknowledging may send a batch twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import msgspec

from services.messaging.adapters.mailer import OutgoingMail
from services.messaging.handlers.base import rfc3339
from services.messaging.handlers.digests import DigestHandlers, Summary, compose_digest
from shared.calendar import poll_meeting_ics
from shared.notices import notice_community, notice_service
from shared.projection import Deferred, Delivery

log = logging.getLogger(__name__)

NS = 10**9
STALE_NS = 2 * 24 * 3600 * NS

ACT = frozenset(
    {
        "key_requested",
        "poll_opened",
        "reminder",
        "decryption_requested",
        "poll_closed",
        "outcome_stated",
        "share_complained",  # the dealer must reveal the share
        "share_revealed",  # the trustee complaining can go on
    }
)
PROGRESS = frozenset({"trustee_committed", "trustee_decrypted"})
MAILED_AT = {"normal": ACT, "watching": ACT | PROGRESS, "muted": frozenset()}
# A forum post mails by the reason it notifies her, at her `discuss` level.
FORUM_MAILED_AT = {
    "normal": frozenset({"mention", "reply"}),
    "watching": frozenset({"mention", "reply", "watching"}),
    "muted": frozenset(),
}
# A message in her private conversations mails at her `chat` level (`watching` is as `normal`).
CHAT_MAILED_AT = {"normal": True, "watching": True, "muted": False}
MAX_QUOTED = 4000  # characters of a post quoted in its mail
WAITING = frozenset({"forum_post", "chat_message"})  # notices that wait for her to come back first


@dataclass(frozen=True)
class DigestSent:
    community: str
    member: str
    period: str
    since_ns: int
    until_ns: int
    frequency: str
    items: int = 0


class MailUnavailable(RuntimeError):
    """The SMTP server could not be reached for any recipient: the batch is tried again later."""


def _when(stamp: str) -> str:
    """`2026-11-24T18:00:00Z` as `24 November 2026, 18:00 UTC` (mails are read anywhere)."""
    try:
        at = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return stamp
    return f"{at.day} {at:%B %Y, %H:%M} UTC"


def _closed(notice: dict[str, Any], now_ns: int) -> bool:
    closes = notice.get("closes_at")
    if not isinstance(closes, str):
        return False
    try:
        at = datetime.fromisoformat(closes.replace("Z", "+00:00"))
    except ValueError:
        return False
    return at.timestamp() * NS <= now_ns


def compose(notice: dict[str, Any], name: str) -> tuple[str, str] | None:
    """Subject and text of the mail for a notice in the community called `name`, or None for a kind
    this service does not mail."""
    kind, title = notice.get("kind"), str(notice.get("title") or "a poll")
    quoted = f"\N{LEFT DOUBLE QUOTATION MARK}{title}\N{RIGHT DOUBLE QUOTATION MARK}"
    closes = _when(str(notice.get("closes_at", "")))
    trustee = notice.get("trustee")
    # Governance numbers trustees from 1, as the poll lists them.
    nth = f"Trustee {trustee}" if isinstance(trustee, int) else "A trustee"
    dealer = notice.get("dealer")
    dealt = f"trustee {dealer}" if isinstance(dealer, int) else "another trustee"
    if kind == "key_requested":
        return (
            f"Your part of the key for {title}",
            f"You are a trustee of the secret poll {quoted} in {name}. It opens once every "
            "trustee has made their part of its key, in the app, signed with your own key.",
        )
    if kind == "poll_opened":
        opened = f"{quoted} is open for your vote in {name} until {closes}."
        times = notice.get("times")
        if isinstance(times, list) and times:  # a meeting poll: when could she come?
            listed = "\n".join(f"- {_when(str(t))}" for t in times)
            opened += f"\n\nSay which of these times you can come to:\n{listed}"
        target = notice.get("target")
        if isinstance(target, int) and target > 0:  # a count poll: who is in?
            many = "one member" if target == 1 else f"{target} members"
            opened += f"\n\nIt goes ahead if {many} say they are in. Are you in?"
        return f"Poll open: {title}", opened
    if kind == "reminder":
        return (
            f"Reminder: {title} closes {closes}",
            f"You have not voted on {quoted} in {name} yet. It closes {closes}.",
        )
    if kind == "poll_closed":
        outcome = notice.get("outcome")
        said = f" Outcome: {outcome}." if outcome else ""
        return (
            f"Result: {title}",
            f"{quoted} in {name} has closed.{said} The result and everything needed to check "
            "the count are in the app.",
        )
    if kind == "outcome_stated":
        text = str(notice.get("text") or "")
        meeting = notice.get("meeting")
        said = f"The outcome of {quoted} in {name}:\n\n{text}"
        if isinstance(meeting, dict):
            where = f", {meeting['location']}" if meeting.get("location") else ""
            said += (
                f"\n\nThe meeting: {_when(str(meeting.get('start')))} to {_when(str(meeting.get('end')))}"
                f"{where}. The attached calendar file adds it to your calendar."
            )
        return f"Outcome: {title}", said
    if kind == "decryption_requested":
        return (
            f"Your turn: decrypt your share of {title}",
            f"The secret poll {quoted} in {name} has closed and its ballots are added up, still "
            "encrypted. As its trustee, decrypt your share of the count in the app.",
        )
    if kind == "trustee_committed":
        return (
            f"{title}: {nth.lower()} made their part of the key",
            f"{nth} of the secret poll {quoted} in {name} has made their part of its key.",
        )
    if kind == "trustee_decrypted":
        return (
            f"{title}: {nth.lower()} decrypted their share",
            f"{nth} of the secret poll {quoted} in {name} has decrypted their share of the count.",
        )
    if kind == "share_complained":
        return (
            f"{title}: {nth.lower()} complained of the share {dealt} dealt",
            f"{nth} of the secret poll {quoted} in {name} says the share {dealt} sealed to them is "
            "missing or does not match its public commitment. The dealer answers by revealing that "
            "share in the app; it is checked against the commitment, and anyone can see who was right.",
        )
    if kind == "share_revealed":
        return (
            f"{title}: {dealt} revealed the share dealt to {nth.lower()}",
            f"In the secret poll {quoted} in {name}, {dealt} answered the complaint of "
            f"{nth.lower()} by revealing the share, which matches its public commitment. "
            f"{nth} uses it in place of the sealed one.",
        )
    return None


def _calendar(notice: dict[str, Any], community: str, base: str, link: str) -> str:
    """The iCalendar file of the meeting an outcome fixed (the same file the app offers), or ""."""
    meeting = notice.get("meeting")
    if notice.get("kind") != "outcome_stated" or not isinstance(meeting, dict):
        return ""
    try:
        ics = poll_meeting_ics(
            meeting, community=community, poll=str(notice.get("poll")), host=urlsplit(base).hostname or "",
            title=str(notice.get("title") or "Meeting"), outcome=str(notice.get("text") or ""), link=link,
        )  # fmt: skip
    except (KeyError, TypeError, ValueError):
        log.warning(
            "the meeting of notice for poll %s is malformed; mailed without a calendar file",
            notice.get("poll"),
        )
        return ""
    return ics.decode()


class NoticeMail:
    """The `apply` of the notice-mail projection worker, over the messaging service's read models."""

    def __init__(self, handlers: DigestHandlers) -> None:
        self.handlers = handlers
        self.mailed = 0  # mails the SMTP server accepted (for logs and tests)

    async def apply(self, deliveries: Sequence[Delivery]) -> Deferred | None:
        handlers = self.handlers
        if handlers.mailer is None:
            return None
        now = handlers.clock()
        delay_ns = int(handlers.settings.mail_delay_s * NS)
        await handlers.sync_members()
        mails: list[OutgoingMail] = []
        digests: list[tuple[OutgoingMail, DigestSent]] = []
        deferred: dict[int, float] = {}
        for delivery in deliveries:
            try:
                notice = msgspec.json.decode(delivery.data)
            except msgspec.DecodeError:
                log.warning("notice %s on %s does not decode; skipped", delivery.sequence, delivery.stream)
                continue
            if not isinstance(notice, dict):
                continue
            if delivery.timestamp_ns and now - delivery.timestamp_ns > STALE_NS:
                continue
            if notice.get("kind") in ("poll_opened", "reminder") and _closed(notice, now):
                continue
            community = notice_community(delivery.subject)
            if notice_service(delivery.subject) != "messaging":
                mails.extend(await self._mails(community, notice, now))
                continue
            if notice.get("kind") == "digest":
                digest = await self._digest_mail(community, notice, now)
                if digest is not None and not any(  # two copies of one summary in this batch
                    (d.community, d.member, d.until_ns)
                    == (digest[1].community, digest[1].member, digest[1].until_ns)
                    for _, d in digests
                ):
                    mails.append(digest[0])
                    digests.append(digest)
                continue
            due = delivery.timestamp_ns + delay_ns
            if notice.get("kind") in WAITING and delivery.timestamp_ns and now < due:
                deferred[delivery.sequence] = (due - now) / NS  # not yet: see whether she reads it
            elif notice.get("kind") == "chat_message":
                mails.extend(await self._chat_mails(community, notice, now))
            else:
                mails.extend(await self._forum_mails(community, notice, now))
        if not mails:
            return deferred
        results = await handlers.mailer.send(mails)
        answered = [results.get(mail.to, "failed: no answer") for mail in mails]
        if all(result.startswith("failed") for result in answered):
            raise MailUnavailable(f"no notice mail was accepted: {answered[0]}")
        self.mailed += answered.count("sent")
        for mail, result in zip(mails, answered, strict=True):
            if result != "sent":
                log.warning("notice mail %r to one member was not accepted: %s", mail.subject, result)
        await handlers.record_bounces(mails, results)
        for mail, sent in digests:  # so that no replica summarises the period again
            result = results.get(mail.to, "failed: no answer")
            await handlers.record_digest(
                sent.community, sent.member, sent.period, sent.since_ns, sent.until_ns, sent.items, result
            )
        return deferred

    def _mail(
        self, community: str, member: str, to: str, subject: str, text: str, which: str, **headers: str
    ) -> OutgoingMail:
        """One notice mail: its text, then why she gets it, where to choose `which` mails, and
        her link that stops all mail from the community."""
        handlers = self.handlers
        settings = f"{handlers.settings.public_base_url}/app/#/announcements?" + urlencode({"c": community})
        name = handlers.community_name(community)
        footer = (
            f"\n\n--\nYou receive this because you asked {name} for email at this address.\n"
            f"Choose which {which} you get: {settings}"
        )
        return handlers.community_mail(community, member, to, subject, text + footer, **headers)

    async def _mails(self, community: str, notice: dict[str, Any], now: int) -> list[OutgoingMail]:
        handlers = self.handlers
        composed = compose(notice, handlers.community_name(community))
        recipients = notice.get("recipients")
        if composed is None or not isinstance(recipients, list):
            return []
        kind = str(notice["kind"])
        wanted = [
            did
            for did in recipients
            if isinstance(did, str)
            and (record := handlers.members.member(community, did)) is not None
            and record.standing(now) == "good"
        ]
        addresses = await handlers.read(
            lambda: {
                did: handlers.inbox.email_of(community, did)
                for did in wanted
                if kind in MAILED_AT.get(handlers.inbox.decide_level(community, did), ACT)
            }
        )
        subject, text = composed
        base = handlers.settings.public_base_url
        poll = str(notice.get("poll", ""))
        link = f"{base}/app/#/polls?" + urlencode({"poll": poll, "c": community}) if poll else f"{base}/app/"
        calendar = _calendar(notice, community, base, link)
        return [
            replace(
                self._mail(
                    community,
                    did,
                    address,
                    subject,
                    f"{text}\n\n{link}",
                    "poll mails",
                    **{"X-Poll": poll, "X-Notice": kind},
                ),
                calendar=calendar,
            )
            for did, address in addresses.items()
            if address
        ]

    async def _digest_mail(
        self, community: str, notice: dict[str, Any], now: int
    ) -> tuple[OutgoingMail, DigestSent] | None:
        """Her summary, composed now (what she read since the period ended is left out), unless it
        was mailed already, she stopped summaries or email, or there is nothing left to say."""
        handlers = self.handlers
        try:
            sent = DigestSent(
                community,
                str(notice["member"]),
                str(notice["period"]),
                int(notice["since_ns"]),
                int(notice["until_ns"]),
                str(notice.get("frequency", "daily")),
            )
        except (KeyError, TypeError, ValueError):
            log.warning("a digest notice of %s is malformed; skipped", community)
            return None
        if await handlers.digest_recorded(community, sent.member, sent.until_ns):
            return None  # another copy of this notice was mailed
        record = handlers.members.member(community, sent.member)
        if record is None or record.standing(now) != "good":
            return None

        polls = await handlers.member_polls(community, sent.member, sent.since_ns, sent.until_ns)

        def look() -> tuple[str, str, Summary]:
            frequency = handlers.inbox.digest_of(community, record.did).frequency
            summary = handlers.summary(community, record, sent.since_ns, sent.until_ns, polls)
            return handlers.inbox.email_of(community, record.did), frequency, summary

        address, frequency, summary = await handlers.read(look)
        if not address or frequency == "off" or not summary.items:
            return None

        def name(did: str) -> str:
            return getattr(handlers.members.member(community, did), "name", "") or "a member"

        def category(ident: str) -> str:
            row = handlers.forum.categories.get(community, {}).get(ident)
            return row.name if row is not None and row.name else ident

        subject, text = compose_digest(
            summary,
            community=community,
            title=handlers.community_name(community),
            frequency=sent.frequency,
            since=_when(rfc3339(sent.since_ns)),
            base=handlers.settings.public_base_url,
            name=name,
            category=category,
            when=_when,
        )
        mail = self._mail(
            community, record.did, address, subject, text, "summaries and mails", **{"X-Notice": "digest"}
        )
        return mail, replace(sent, items=summary.items)

    async def _forum_mails(self, community: str, notice: dict[str, Any], now: int) -> list[OutgoingMail]:
        """A new forum post, to whom it notifies: quoted, when she may still read it and has not."""
        handlers = self.handlers
        reasons = notice.get("reasons")
        if notice.get("kind") != "forum_post" or not isinstance(reasons, dict):
            return []
        ident, thread_id = str(notice.get("post", "")), str(notice.get("thread", ""))

        def decide() -> list[tuple[str, str, str, str, str, str]]:
            post = handlers.forum.posts.get(community, {}).get(ident)
            thread = handlers.forum.threads.get(community, {}).get(thread_id)
            if post is None or thread is None or post.state != "visible":
                return []  # hidden or removed since: not mailed
            category = handlers.forum.categories.get(community, {}).get(post.category)
            position = thread.posts.index(ident) + 1 if ident in thread.posts else 0
            out = []
            for did, reason in reasons.items():
                record = handlers.members.member(community, did)
                address = handlers.inbox.email_of(community, did)
                if record is None or record.standing(now) != "good" or not address:
                    continue
                if reason not in FORUM_MAILED_AT.get(handlers.inbox.discuss_level(community, did), ()):
                    continue
                if not handlers.may_read(record, category):
                    continue  # her roles changed, or she was banned from the category
                read = handlers.forum.markers.get((community, did), {}).get(f"thread:{thread_id}", 0)
                if position and read >= position:
                    continue  # she has read it in the app already
                out.append((did, address, reason, thread.title, post.body, post.by))
            return out

        base = handlers.settings.public_base_url
        link = f"{base}/app/#/forums?" + urlencode({"thread": thread_id, "post": ident, "c": community})
        mails = []
        for did, address, reason, title, text, by in await handlers.read(decide):
            author = getattr(handlers.members.member(community, by), "name", "") or "A member"
            quoted = f"\N{LEFT DOUBLE QUOTATION MARK}{title}\N{RIGHT DOUBLE QUOTATION MARK}"
            subject = {
                "mention": f"{author} mentioned you in {quoted}",
                "reply": f"New reply to {quoted}",
            }.get(reason, f"New post in {quoted}")
            shown = (
                text if len(text) <= MAX_QUOTED else text[:MAX_QUOTED].rstrip() + " \N{HORIZONTAL ELLIPSIS}"
            )
            called = handlers.community_name(community)
            text = f"{author} wrote in {called}:\n\n{shown}\n\nReply in the community: {link}"
            headers = {"X-Thread": thread_id, "X-Post": ident, "X-Notice": reason}
            mails.append(self._mail(community, did, address, subject, text, "forum mails", **headers))
        return mails

    async def _chat_mails(self, community: str, notice: dict[str, Any], now: int) -> list[OutgoingMail]:
        """A message in a private conversation, to its members who have not read it: once per
        unread run (for her earliest unread message), naming who wrote and how many wait."""
        handlers = self.handlers
        ident, message_id = str(notice.get("conversation", "")), str(notice.get("message", ""))
        recipients = notice.get("recipients")
        if not isinstance(recipients, list):
            return []

        def decide() -> list[tuple[str, str, str, int, list[str]]]:
            chat = handlers.chat
            row = chat.conversations.get(community, {}).get(ident)
            messages = chat.messages.get(community, {})
            if row is None or row.kind == "channel" or message_id not in messages:
                return []
            out = []
            for did in recipients:
                record = handlers.members.member(community, did) if isinstance(did, str) else None
                address = handlers.inbox.email_of(community, did) if record is not None else ""
                if record is None or record.standing(now) != "good" or not address:
                    continue
                if not handlers.may_read_conversation(record, row):
                    continue  # left the conversation since, or banned from it
                if not CHAT_MAILED_AT.get(handlers.inbox.chat_level(community, did), True):
                    continue
                if handlers.forum.level(community, did, f"conversation:{ident}") == "muted":
                    continue  # she muted this conversation
                unread = chat.unread_messages(community, did, row)
                if not unread or unread[0] != message_id:
                    continue  # read already, or a mail for an earlier unread message went
                authors = list(dict.fromkeys(messages[m].by for m in unread))
                out.append((did, address, row.name, len(unread), authors))
            return out

        base = handlers.settings.public_base_url
        link = f"{base}/app/#/chat?" + urlencode({"conversation": ident, "c": community})
        mails = []
        for did, address, name, count, authors in await handlers.read(decide):
            names = [
                getattr(handlers.members.member(community, by), "name", "") or "a member" for by in authors
            ]
            who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"
            many = "a new message" if count == 1 else f"{count} new messages"
            place = f"in {name}" if name else "to you"
            subject = f"{who[:1].upper()}{who[1:]} sent {many} {place}"
            text = (
                f"{subject} in {handlers.community_name(community)}.\n\n"
                "Private conversations are end-to-end encrypted: only their members can read them, "
                "so this mail cannot show what was written. Read and answer in the app:\n"
                f"{link}\n\nYou get one such mail until you have read the conversation."
            )
            headers = {"X-Conversation": ident, "X-Notice": "chat_message"}
            mails.append(self._mail(community, did, address, subject, text, "chat mails", **headers))
        return mails
