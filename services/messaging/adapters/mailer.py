"""Email delivery over SMTP (the standard library's smtplib, in a worker thread).

Announcements go out as multipart messages: the Markdown source as the text part, the sanitised
HTML rendering as the alternative (no images, so no tracking pixels), and the community-signed
credential attached so a recipient can verify the text she received. Delivery statistics come
from what the SMTP server answered for each recipient, never from opens.
"""

from __future__ import annotations

import asyncio
import json
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import Any, Protocol


@dataclass(frozen=True)
class OutgoingMail:
    to: str
    subject: str
    text: str
    html: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    attachment: dict[str, Any] | None = None  # a signed credential, sent as application/vc+ld+json
    calendar: str = ""  # an iCalendar file (a meeting), sent as text/calendar
    sender_name: str = ""  # the From display name: the community's name
    community: str = ""  # when a community mails one of its members: which, and to whom (her DID)
    member: str = ""


# A refusal as the mailer reports it: the reply code, then an enhanced status code if any.
_REFUSAL = re.compile(r"^refused: (?P<code>\d{3})(?: (?P<status>[245]\.\d{1,3}\.\d{1,3})\b)?")


def hard_bounce(result: str) -> bool:
    """Whether a delivery result (`sent`, `refused: CODE text`, `failed: ...`) says the address
    itself is gone for good, so that mailing it again only harms the sender's reputation: an
    enhanced status 5.1.x (RFC 3463: bad destination mailbox or system), or without one a reply
    550, 551 or 553 (RFC 5321). A full mailbox (5.2.x), a message judged as spam or a policy
    (5.7.x) is about one message, not the address, and a temporary failure (4xx) is retried."""
    refusal = _REFUSAL.match(result)
    if refusal is None:
        return False
    status = refusal.group("status")
    if status is not None:
        return status.startswith("5.1.")
    return refusal.group("code") in ("550", "551", "553")


def community_headers(community: str, name: str, host: str, unsubscribe: str, **more: str) -> dict[str, str]:
    """Headers of every mail a community sends on its own, plus `more` (X-Announcement, X-Poll...):
    - `List-Id` (RFC 2919), so mail programs can sort and filter the community's mail;
    - `List-Unsubscribe` with `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058): the
      member's own link that stops all mail from the community, which mail programs offer as one
      click and large mailbox providers require of bulk senders;
    - `Auto-Submitted` (RFC 3834), so auto-responders stay quiet."""
    return {
        "List-Id": f"{_phrase(name)} <{community}.{host or 'localhost'}>",
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "Auto-Submitted": "auto-generated",
        "X-Community": community,
        **more,
    }


def _phrase(name: str) -> str:
    """A display name as an RFC 5322 phrase: one line, quoted when it holds special characters."""
    flat = " ".join(name.split())
    if all(c.isalnum() or c in " !#$%&'*+-/=?^_`{|}~" for c in flat):
        return flat
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Mailer(Protocol):
    async def send(self, mails: list[OutgoingMail]) -> dict[str, str]:
        """Send each mail; answer per address `sent` or what the server refused."""
        ...


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int
    sender: str
    starttls: bool = False
    username: str = ""
    password: str = field(default="", repr=False)
    timeout_s: float = 30.0

    def build(self, mail: OutgoingMail) -> EmailMessage:
        message = EmailMessage()
        name = " ".join(mail.sender_name.split())  # one line, whatever the community is called
        message["From"] = formataddr((name, self.sender)) if name else self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        for name, value in mail.headers.items():
            message[name] = value
        message.set_content(mail.text)
        if mail.html:
            message.add_alternative(mail.html, subtype="html")
        if mail.attachment is not None:
            message.add_attachment(
                json.dumps(mail.attachment, indent=2).encode(),
                maintype="application",
                subtype="vc+ld+json",
                filename="announcement.credential.json",
            )
        if mail.calendar:
            message.add_attachment(
                mail.calendar, subtype="calendar", filename="meeting.ics", params={"method": "PUBLISH"}
            )
        return message

    def _send_all(self, mails: list[OutgoingMail]) -> dict[str, str]:
        results: dict[str, str] = {}
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                for mail in mails:
                    try:
                        refused = smtp.send_message(self.build(mail))
                    except smtplib.SMTPRecipientsRefused as exc:
                        refused = dict(exc.recipients)
                    except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
                        error = exc.smtp_error
                        said = error if isinstance(error, str) else error.decode(errors="replace")
                        results[mail.to] = f"refused: {exc.smtp_code} {said}"
                        continue
                    if refused:
                        code, text = next(iter(refused.values()))
                        said = text if isinstance(text, str) else text.decode(errors="replace")
                        results[mail.to] = f"refused: {code} {said}"
                    else:
                        results[mail.to] = "sent"
        except (OSError, smtplib.SMTPException) as exc:
            for mail in mails:
                results.setdefault(mail.to, f"failed: {type(exc).__name__}: {exc}")
        return results

    async def send(self, mails: list[OutgoingMail]) -> dict[str, str]:
        if not mails:
            return {}
        return await asyncio.to_thread(self._send_all, mails)
