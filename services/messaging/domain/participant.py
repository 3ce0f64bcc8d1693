"""One member's own messaging state: read announcements, welcome, email opt-in, notification levels."""

from __future__ import annotations

from services.messaging.domain.content import LEVELS, digest_id
from services.messaging.domain.digest import DigestSetting, check_setting, reconfigured
from services.messaging.domain.errors import Forbidden, Invalid, TooSoon
from services.messaging.domain.events import (
    AnnouncementRead,
    DigestConfigured,
    DigestMailed,
    EmailBounced,
    EmailOptedOut,
    EmailOptedOutByLink,
    EmailOptInRequested,
    EmailVerified,
    NotificationLevelSet,
    ReadMarkerSet,
    Statement,
    WelcomeDelivered,
)
from shared.domain import Aggregate, applies

EMAIL_REQUEST_INTERVAL_NS = 60 * 10**9


def participant_id(community: str, did: str) -> str:
    return f"{community}.participant.{digest_id(did)}"


class Participant(Aggregate):
    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.read: set[str] = set()
        self.welcomed = False
        self.email = ""  # verified address, "" when not opted in
        self.email_since_ns = 0  # when that address was confirmed (unsubscribe links name it)
        self.former: tuple[str, int] | None = None  # the address and its instant before opting out
        self.bounced: EmailBounced | None = None  # the last address refused for good, until a new one
        self.pending: EmailOptInRequested | None = None
        self.levels: dict[str, str] = {}
        self.markers: dict[str, int] = {}
        self.digest = DigestSetting()
        self.digest_until_ns = 0  # the end of the last period a summary was mailed for
        self.digest_last: DigestMailed | None = None

    def mark_read(self, member: str, announcement: str, statement: Statement, now: int) -> bool:
        if announcement in self.read:
            return False
        self.trigger(AnnouncementRead, now, member=member, announcement=announcement, statement=statement)
        return True

    def deliver_welcome(self, member: str, announcement: str, admitted_ns: int, now: int) -> bool:
        if self.welcomed:
            return False
        self.trigger(WelcomeDelivered, now, member=member, announcement=announcement, admitted_ns=admitted_ns)
        return True

    def request_email(
        self, member: str, email: str, token_hash: str, expires_ns: int, statement: Statement, now: int
    ) -> None:
        if self.pending is not None and now - self.pending.occurred_ns < EMAIL_REQUEST_INTERVAL_NS:
            # Each request mails a stranger's address: a member may not turn that into a flood.
            raise TooSoon("too_many_requests", "a verification mail was sent a moment ago; wait a minute")
        self.trigger(
            EmailOptInRequested,
            now,
            member=member,
            email=email,
            token_hash=token_hash,
            expires_ns=expires_ns,
            statement=statement,
        )

    def verify_email(self, member: str, token_hash: str, now: int) -> str:
        pending = self.pending
        if pending is None or pending.token_hash != token_hash:
            raise Forbidden("invalid_verification", "this verification link is not valid (or was used)")
        if now > pending.expires_ns:
            raise Forbidden("verification_expired", "this verification link has expired; ask for a new one")
        self.trigger(EmailVerified, now, member=member, email=pending.email)
        return pending.email

    def opt_out(self, member: str, statement: Statement, now: int) -> None:
        if self.email or self.pending:
            self.trigger(EmailOptedOut, now, member=member, statement=statement)

    def bounce(self, member: str, email: str, said: str, now: int) -> bool:
        """Stop mail to `email` when the server refused it for good; False when it is no longer
        her address (she changed it or stopped mail meanwhile)."""
        if not self.email or self.email.lower() != email.lower():
            return False
        self.trigger(EmailBounced, now, member=member, email=self.email, said=said[:300])
        return True

    def opt_out_by_link(self, member: str, now: int) -> bool:
        """Stop all mail from the unsubscribe link of a mail; False when none was going."""
        if not self.email:
            return False
        self.trigger(EmailOptedOutByLink, now, member=member)
        return True

    def set_level(self, member: str, scope: str, level: str, statement: Statement, now: int) -> None:
        if level not in LEVELS:
            raise Invalid("invalid_request", f"level is one of {', '.join(LEVELS)}")
        self.trigger(NotificationLevelSet, now, member=member, scope=scope, level=level, statement=statement)

    def set_marker(self, member: str, scope: str, position: int, statement: Statement, now: int) -> bool:
        if position < 0:
            raise Invalid("invalid_request", "a read position is not negative")
        if self.markers.get(scope, 0) >= position:
            return False  # read markers only move forward
        self.trigger(ReadMarkerSet, now, member=member, scope=scope, position=position, statement=statement)
        return True

    def configure_digest(
        self, member: str, frequency: str, hour: int, weekday: int, statement: Statement, now: int
    ) -> None:
        check_setting(frequency, hour, weekday)
        self.trigger(
            DigestConfigured,
            now,
            member=member,
            frequency=frequency,
            hour=hour,
            weekday=weekday,
            statement=statement,
        )

    def record_digest(
        self, member: str, period: str, since_ns: int, until_ns: int, items: int, result: str, now: int
    ) -> bool:
        """Record a summary mailed; False (nothing recorded) when that period was recorded already."""
        if until_ns <= self.digest_until_ns:
            return False
        self.trigger(
            DigestMailed,
            now,
            member=member,
            period=period,
            since_ns=since_ns,
            until_ns=until_ns,
            items=items,
            result=result,
        )
        return True

    @applies(AnnouncementRead)
    def _read(self, event: AnnouncementRead) -> None:
        self.read.add(event.announcement)

    @applies(WelcomeDelivered)
    def _welcomed(self, event: WelcomeDelivered) -> None:
        self.welcomed = True

    @applies(EmailOptInRequested)
    def _requested(self, event: EmailOptInRequested) -> None:
        self.pending = event

    @applies(EmailVerified)
    def _verified(self, event: EmailVerified) -> None:
        self.email, self.pending = event.email, None
        self.email_since_ns, self.former = event.occurred_ns, None  # earlier links say nothing now
        self.bounced = None

    @applies(EmailBounced)
    def _bounced(self, event: EmailBounced) -> None:
        self._stop_mail()
        self.bounced = event

    @applies(EmailOptedOutByLink)
    def _opted_out_by_link(self, event: EmailOptedOutByLink) -> None:
        self._stop_mail()

    @applies(EmailOptedOut)
    def _opted_out(self, event: EmailOptedOut) -> None:
        self._stop_mail()

    def _stop_mail(self) -> None:
        if self.email:
            self.former = (self.email, self.email_since_ns)
        self.email, self.pending, self.email_since_ns = "", None, 0

    @applies(NotificationLevelSet)
    def _level(self, event: NotificationLevelSet) -> None:
        self.levels[event.scope] = event.level

    @applies(DigestConfigured)
    def _digest(self, event: DigestConfigured) -> None:
        self.digest = reconfigured(self.digest, event.frequency, event.hour, event.weekday, event.occurred_ns)

    @applies(DigestMailed)
    def _digest_mailed(self, event: DigestMailed) -> None:
        self.digest_until_ns, self.digest_last = event.until_ns, event

    @applies(ReadMarkerSet)
    def _marker(self, event: ReadMarkerSet) -> None:
        self.markers[event.scope] = event.position
