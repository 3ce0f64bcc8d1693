"""Summaries by email: what a member has not read, daily or weekly, in one mail.

A member who asked for email may also ask for a summary (`set_digest {frequency: daily | weekly,
hour, weekday}`): at that hour of UTC (the app converts her own time of day), one mail lists what
came in the period and she has not read in the app: new posts in the threads she may read (not
those she muted, not her own), announcements she has not opened, and how many private messages wait
for her (never their text: the server cannot read them). When there is nothing, nothing is mailed.

How it is sent once, whichever replica runs: every replica looks each minute for summaries whose
period has ended (`domain/digest.py`: the same period and name on every replica) and stores a
`digest` notice in the NOTICES stream, whose id is its content, so the replicas' copies are stored
once. The shared notice-mail worker mails it (at least once, retried while the SMTP server cannot
be reached) and then records `digest_mailed` on her participant, so no replica summarises that
period again. The mail is composed when it is sent: what she has read meanwhile is left out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from services.messaging.adapters.membership_feed import MemberRecord
from services.messaging.adapters.polls import MemberPolls
from services.messaging.domain.commands import DigestBody, Signed
from services.messaging.domain.digest import DigestSetting, due
from services.messaging.domain.participant import Participant, participant_id
from services.messaging.handlers.base import rfc3339
from services.messaging.handlers.reads import ReadHandlers
from shared.domain import DomainError
from shared.trust.datetimes import parse_datetime

log = logging.getLogger(__name__)

NS = 10**9
LOOK_EVERY_NS = 60 * NS  # how often a replica looks for summaries that are due
EXCERPT = 200  # characters of a thread's first new post shown in a summary


@dataclass
class ThreadNews:
    thread: str
    title: str
    category: str
    first_post: str  # the earliest new post, where the link points
    excerpt: str
    posts: int = 0
    authors: list[str] = field(default_factory=list)
    last_ns: int = 0


@dataclass(frozen=True)
class ConversationNews:
    conversation: str
    name: str  # "" for a direct conversation
    kind: str
    messages: int
    authors: tuple[str, ...]


@dataclass(frozen=True)
class AnnouncementNews:
    announcement: str
    title: str
    at_ns: int


@dataclass(frozen=True)
class Summary:
    threads: list[ThreadNews]
    announcements: list[AnnouncementNews]
    conversations: list[ConversationNews]
    polls: MemberPolls = field(default_factory=MemberPolls)  # Decide's part, from governance
    opened: int = 0  # of the polls waiting for her vote, those that opened in the period

    @property
    def posts(self) -> int:
        return sum(t.posts for t in self.threads)

    @property
    def messages(self) -> int:
        return sum(c.messages for c in self.conversations)

    @property
    def items(self) -> int:
        """What is new: a poll still waiting for her vote that opened before is listed again, but
        does not make a summary by itself (governance's reminders are for that)."""
        return self.posts + len(self.announcements) + self.messages + self.opened + len(self.polls.decided)


def digest_view(participant: Participant) -> dict[str, Any]:
    """Her summary setting (hour in UTC) and the last summary mailed to her."""
    setting, last = participant.digest, participant.digest_last
    return {
        "frequency": setting.frequency,
        "hour": setting.hour,
        "weekday": setting.weekday,
        "last": None
        if last is None
        else {
            "period": last.period,
            "until": rfc3339(last.until_ns),  # what it covered ends here
            "at": rfc3339(last.occurred_ns),
            "items": last.items,
        },
    }


def _seconds(stamp: Any) -> int:
    """An RFC 3339 instant from governance in seconds since 1970; 0 when it is not one."""
    try:
        return int(parse_datetime(stamp).timestamp())
    except ValueError:
        return 0


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[:EXCERPT].rstrip() + " \N{HORIZONTAL ELLIPSIS}"


class DigestHandlers(ReadHandlers):
    async def set_digest(self, command: Signed) -> dict[str, Any]:
        act = await self.act(command, "set_digest")
        body = self.body(act, DigestBody)
        participant = await self.load_or_new(Participant, participant_id(act.community, act.did))
        participant.configure_digest(act.did, body.frequency, body.hour, body.weekday, act.document, act.now)
        await self.save(participant)
        return digest_view(participant)

    # -- what a summary holds ------------------------------------------------------------------

    async def member_polls(self, community: str, did: str, since_ns: int, until_ns: int) -> MemberPolls:
        """Her polls to vote in and those decided in the period; none when governance cannot say."""
        if self.polls is None:
            return MemberPolls()
        return await self.polls.member_polls(community, did, since_ns, until_ns) or MemberPolls()

    def summary(
        self,
        community: str,
        record: MemberRecord,
        since_ns: int,
        until_ns: int,
        polls: MemberPolls | None = None,
    ) -> Summary:
        """What came in `(since_ns, until_ns]` that she may read and has not (call inside `read`),
        with her `polls` as governance gave them."""
        did, forum, chat = record.did, self.forum, self.chat
        threads: list[ThreadNews] = []
        posts = forum.posts.get(community, {})
        read_up_to = forum.markers.get((community, did), {})
        for thread in forum.threads.get(community, {}).values():
            if thread.last_ns <= since_ns or not thread.posts:
                continue
            if not self.may_read(record, forum.categories.get(community, {}).get(thread.category)):
                continue
            scopes = (f"thread:{thread.thread}", f"category:{thread.category}")
            if forum.level(community, did, *scopes) == "muted":
                continue
            read = read_up_to.get(f"thread:{thread.thread}", 0)
            news: ThreadNews | None = None
            for position in range(len(thread.posts), read, -1):  # newest first, down to her marker
                post = posts.get(thread.posts[position - 1])
                if post is None:
                    continue
                if post.created_ns <= since_ns:
                    break
                if post.created_ns > until_ns or post.state != "visible" or post.by == did:
                    continue
                if news is None:
                    news = ThreadNews(thread.thread, thread.title, thread.category, "", "")
                news.posts += 1
                news.first_post, news.excerpt = post.post, _excerpt(post.body)
                news.last_ns = max(news.last_ns, post.created_ns)
                if post.by not in news.authors:
                    news.authors.insert(0, post.by)
            if news is not None:
                threads.append(news)
        threads.sort(key=lambda t: (-t.posts, -t.last_ns))
        conversations: list[ConversationNews] = []
        messages = chat.messages.get(community, {})
        for row in chat.conversations.get(community, {}).values():
            if row.kind == "channel" or not self.may_read_conversation(record, row):
                continue
            if forum.level(community, did, f"conversation:{row.conversation}") == "muted":
                continue
            unread = [
                messages[m]
                for m in chat.unread_messages(community, did, row)
                if since_ns < messages[m].at_ns <= until_ns
            ]
            if unread:
                authors = tuple(dict.fromkeys(m.by for m in unread))
                conversations.append(
                    ConversationNews(row.conversation, row.name, row.kind, len(unread), authors)
                )
        announcements = [
            AnnouncementNews(sent.announcement, sent.title, sent.at_ns)
            for sent in self.inbox.unread_between(community, did, since_ns, until_ns)
        ]
        polls = polls or MemberPolls()
        # (governance gives whole seconds: a poll opened in the second the period began counts)
        opened = sum(
            1 for p in polls.awaiting if since_ns // NS <= _seconds(p.get("opens_at")) <= until_ns // NS
        )
        return Summary(threads, announcements, conversations, polls, opened)

    # -- the scheduler's part ------------------------------------------------------------------

    async def digest_round(self, force: bool = False) -> int:
        """Store a `digest` notice for each summary whose period has ended and that has something
        to say; the notice-mail worker mails it. Returns how many were stored (this round)."""
        if self.mailer is None or self.notices is None:
            return 0
        now = self.clock()
        if not force and now - self.digests_looked_ns < LOOK_EVERY_NS:
            return 0
        self.digests_looked_ns = now

        def with_address() -> list[tuple[str, str, DigestSetting, int]]:  # no address, no summary
            return [row for row in self.inbox.digests() if self.inbox.email_of(row[0], row[1])]

        wanted = await self.read(with_address)
        if not wanted:
            return 0
        await self.sync_members()
        stored = 0
        for community, did, setting, last_until in wanted:
            period = due(setting, last_until, now)
            if period is None or self.digests_looked_at.get((community, did)) == period.name:
                continue
            self.digests_looked_at[(community, did)] = period.name  # once per period on this replica
            record = self.members.member(community, did)
            if record is None or record.standing(now) != "good":
                continue

            polls = await self.member_polls(community, did, period.since_ns, period.until_ns)

            def look(
                community: str = community,
                record: MemberRecord = record,
                since: int = period.since_ns,
                until: int = period.until_ns,
                polls: MemberPolls = polls,
            ) -> int:
                return self.summary(community, record, since, until, polls).items

            if not await self.read(look):
                continue  # nothing to say: no mail (the next summary starts where this one would have)
            await self.notices.notify(
                community,
                {
                    "kind": "digest",
                    "member": did,
                    "frequency": setting.frequency,
                    "period": period.name,
                    "since_ns": period.since_ns,
                    "until_ns": period.until_ns,
                },
            )
            stored += 1
        return stored

    async def record_digest(
        self, community: str, did: str, period: str, since_ns: int, until_ns: int, items: int, result: str
    ) -> bool:
        """Record a summary the SMTP server answered for; False when that period was recorded already."""
        for _ in range(3):
            participant = await self.load_or_new(Participant, participant_id(community, did))
            if not participant.record_digest(did, period, since_ns, until_ns, items, result, self.clock()):
                return False
            try:
                await self.save(participant)
                return True
            except DomainError as exc:  # she changed a setting at that moment: load again
                if exc.code != "conflict":
                    raise
        log.warning("summary %s of one member in %s was mailed but could not be recorded", period, community)
        return False

    async def digest_recorded(self, community: str, did: str, until_ns: int) -> bool:
        participant = await self.load_or_new(Participant, participant_id(community, did))
        return participant.digest_until_ns >= until_ns


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


MAX_THREADS = 12  # threads listed one by one; the rest are counted


def compose_digest(
    summary: Summary,
    *,
    community: str,
    title: str = "",
    frequency: str,
    since: str,
    base: str,
    name: Callable[[str], str],
    category: Callable[[str], str],
    when: Callable[[str], str] = str,
) -> tuple[str, str]:
    """Subject and text of a summary mail. `title` is the community's name (its id when empty),
    `name` gives a member's name from her DID, `category`
    a category's name, `when` an RFC 3339 instant in words; `since` is when the period began."""
    parts = []
    if summary.polls.awaiting:
        parts.append(_count(len(summary.polls.awaiting), "poll to vote in", "polls to vote in"))
    if summary.polls.decided:
        parts.append(_count(len(summary.polls.decided), "poll decided", "polls decided"))
    if summary.posts:
        parts.append(_count(summary.posts, "new post", "new posts"))
    if summary.announcements:
        parts.append(_count(len(summary.announcements), "announcement", "announcements"))
    if summary.messages:
        parts.append(_count(summary.messages, "private message", "private messages"))
    what = ", ".join(parts)
    called = title or community
    subject = f"{'Weekly' if frequency == 'weekly' else 'Daily'} summary of {called}: {what}"
    lines = [f"What is new for you in {called} since {since}:"]
    quote = ("\N{LEFT DOUBLE QUOTATION MARK}", "\N{RIGHT DOUBLE QUOTATION MARK}")
    polls = summary.polls
    if polls.awaiting or polls.decided:
        lines += ["", "Decide", ""]
        for poll in polls.awaiting:
            link = f"{base}/app/#/polls?" + urlencode({"poll": str(poll.get("poll")), "c": community})
            closes = when(str(poll.get("closes_at", "")))
            lines += [
                f"- Your vote: {quote[0]}{poll.get('title')}{quote[1]}, open until {closes}",
                f"  {link}",
            ]
        for poll in polls.decided:
            link = f"{base}/app/#/polls?" + urlencode({"poll": str(poll.get("poll")), "c": community})
            outcome = f": {poll['outcome']}" if poll.get("outcome") else ""
            lines += [f"- Decided: {quote[0]}{poll.get('title')}{quote[1]}{outcome}", f"  {link}"]
    if summary.threads:
        threads = _count(len(summary.threads), "thread", "threads")
        lines += ["", f"Discuss: {_count(summary.posts, 'new post', 'new posts')} in {threads}", ""]
        for news in summary.threads[:MAX_THREADS]:
            link = f"{base}/app/#/forums?" + urlencode(
                {"thread": news.thread, "post": news.first_post, "c": community}
            )
            authors = _names([name(did) for did in news.authors])
            lines += [
                f"- {quote[0]}{news.title}{quote[1]} in {category(news.category)}: "
                f"{_count(news.posts, 'new post', 'new posts')} from {authors}",
                f"  {quote[0]}{news.excerpt}{quote[1]}",
                f"  {link}",
            ]
        rest = summary.threads[MAX_THREADS:]
        if rest:
            more, others = sum(t.posts for t in rest), _count(len(rest), "more thread", "more threads")
            link = f"{base}/app/#/forums?" + urlencode({"c": community})
            lines.append(f"- and {_count(more, 'post', 'posts')} in {others}: {link}")
    if summary.announcements:
        lines += ["", f"Announcements you have not opened: {len(summary.announcements)}", ""]
        for item in summary.announcements:
            link = f"{base}/app/#/announcements?" + urlencode({"a": item.announcement, "c": community})
            lines += [f"- {quote[0]}{item.title}{quote[1]}", f"  {link}"]
    if summary.conversations:
        lines += ["", f"Private messages waiting for you: {summary.messages}", ""]
        for conversation in summary.conversations:
            authors = _names([name(did) for did in conversation.authors])
            where = f" in {conversation.name}" if conversation.name else ""
            lines.append(f"- {_count(conversation.messages, 'message', 'messages')} from {authors}{where}")
        lines += [
            "",
            "They are end-to-end encrypted, so this mail cannot show them. Read them in the app:",
            f"{base}/app/#/chat?" + urlencode({"c": community}),
        ]
    return subject, "\n".join(lines)
