"""The demo community `cos run` seeds: admins, members, and a sign-in invite for the demo user.

The community admits by application (admins approve), and invitations admit at once.
Everything goes through the services' own commands over NATS, signed by the demo people's keys,
exactly as members' devices would do it. The people's keys are kept in `<data_dir>/demo.json`
(readable by the owner only; restore any of them in the web app with its phrase to act as that
person, e.g. an admin), so a second start finds the community, the people and an unused
invite already there and creates nothing twice; a used invite is replaced by a fresh one.

Documents for the assistant, an open poll and posts are added through the knowledge, governance
and messaging commands once those services answer on the bus; a platform without them still gets
the members, a pending application and the invite, and a later start adds what was missing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from nats.aio.client import Client as NATS

from services.social.client.signing import signed_post
from shared.commands import CommandClient, CommandRejected, CommandUnavailable
from shared.natsclient import connect
from shared.statements import sign_statement
from shared.trust.credentials import issue_credential
from shared.trust.datetimes import format_datetime
from shared.trust.member_keys import MemberKeys
from shared.trust.recovery import new_phrase

__all__ = ["DEMO_COMMUNITY", "DemoInfo", "DemoPerson", "seed_demo"]

DEMO_COMMUNITY = "demo"
DEMO_NAME = "Riverside Food Co-op"
STATE_FILE = "demo.json"
INVITE_DAYS = 30


@dataclass(frozen=True)
class DemoPerson:
    name: str
    roles: tuple[str, ...]


ADMINS = (DemoPerson("Ada Okafor", ("admin",)), DemoPerson("Ben Laurent", ("admin",)))
MEMBERS = (
    DemoPerson("Cleo Marsh", ("member", "moderator")),
    DemoPerson("Dev Patel", ("member",)),
    DemoPerson("Eun-ji Park", ("member",)),
)
APPLICANTS = (DemoPerson("Femi Adeyemi", ("member",)),)  # waiting for an admin's approval
DEMO_USER = "Sam Rivera"


@dataclass(frozen=True)
class DemoInfo:
    community: str
    name: str
    url: str  # the web app
    invite_url: str  # opens the demo user's invitation in the web app
    admins: tuple[str, ...]  # DIDs
    members: tuple[str, ...]  # DIDs of the other seeded members
    applicants: tuple[str, ...]  # DIDs of people whose applications wait for an admin
    created: bool  # False when an earlier start had seeded it already
    # What this start added: "community", "members", "applicants", "documents", "poll", "forums",
    # "announcements", "chat", "blog", "invite" (none of them on a start that found everything there).
    seeded: tuple[str, ...]


class _Demo:
    def __init__(self, nc: NATS, state_path: Path, community: str) -> None:
        self.community = community
        self.client = CommandClient(nc, timeout=15)
        self.state_path = state_path
        self.state: dict[str, Any] = {}
        if state_path.exists():
            self.state = json.loads(state_path.read_text())
        self.state.setdefault("people", {})
        self._keys: dict[str, MemberKeys] = {}

    def save(self) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.state_path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(self.state, handle, indent=2, sort_keys=True)
        temporary.replace(self.state_path)

    def keys(self, name: str) -> MemberKeys:
        """A demo person's keys, from the recovery phrase kept in the state file (made on first use)."""
        if name not in self._keys:
            people: dict[str, str] = self.state["people"]
            if name not in people:
                people[name] = new_phrase()
                self.save()
            self._keys[name] = MemberKeys.from_phrase(people[name])
        return self._keys[name]

    def sign(self, who: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
        return sign_statement(
            self.keys(who),
            action=action,
            community=self.community,
            body=body,
            nonce=secrets.token_hex(16),
            now=datetime.now(tz=UTC),
        )

    async def call(self, service: str, command: str, payload: dict[str, Any]) -> Any:
        return await self.client.call(service, command, payload)

    async def exists(self, service: str, command: str, payload: dict[str, Any]) -> Any | None:
        try:
            return await self.call(service, command, payload)
        except CommandRejected as exc:
            if exc.status == 404:
                return None
            raise

    # -- members -----------------------------------------------------------------------------------

    async def ensure_community(self) -> bool:
        if await self.exists("membership", "get_community", {"community": self.community}) is not None:
            return False
        founder = ADMINS[0].name
        await self.call(
            "membership",
            "create_community",
            {
                "slug": self.community,
                "name": DEMO_NAME,
                "policy": {"join_mode": "application"},
                "statement": self.sign(founder, "membership.create_community", {"name": founder}),
            },
        )
        return True

    async def ensure_member(self, person: DemoPerson) -> bool:
        did = self.keys(person.name).did
        record = await self.exists("membership", "member", {"community": self.community, "member": did})
        if record is not None and record.get("status") == "active":
            return False
        if record is None:
            body = {"name": person.name, "did": did, "roles": list(person.roles)}
            await self.call(
                "membership",
                "invite",
                {
                    "community": self.community,
                    "statement": self.sign(ADMINS[0].name, "membership.invite", body),
                },
            )
        statement = self.sign(person.name, "membership.apply", {"name": person.name})
        await self.call("membership", "apply", {"community": self.community, "statement": statement})
        return True

    async def ensure_applicant(self, person: DemoPerson) -> bool:
        did = self.keys(person.name).did
        if (
            await self.exists("membership", "member", {"community": self.community, "member": did})
            is not None
        ):
            return False  # applied on an earlier start (and perhaps admitted or rejected since)
        statement = self.sign(person.name, "membership.apply", {"name": person.name})
        await self.call("membership", "apply", {"community": self.community, "statement": statement})
        return True

    # -- the demo user's invitation ------------------------------------------------------------------

    async def invite_still_open(self) -> bool:
        invite = self.state.get("invite")
        if not isinstance(invite, dict):
            return False
        found = await self.exists(
            "identity", "get_invite", {"community": self.community, "invite": invite["id"]}
        )
        return found is not None and found.get("status") == "pending"

    async def new_invite(self) -> None:
        inviter = ADMINS[0].name
        number = int(self.state.get("invites_made", 0)) + 1
        email = f"sam{number}@demo.invalid"
        invited = await self.call(
            "membership",
            "invite",
            {
                "community": self.community,
                "statement": self.sign(inviter, "membership.invite", {"name": DEMO_USER, "email": email}),
            },
        )
        now = datetime.now(tz=UTC)
        ident, token = secrets.token_urlsafe(12), secrets.token_urlsafe(24)
        keys = self.keys(inviter)
        credential = issue_credential(
            {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "type": ["VerifiableCredential", "InvitationCredential"],
                "issuer": keys.did,
                "validFrom": format_datetime(now - timedelta(minutes=1)),
                "validUntil": format_datetime(now + timedelta(days=INVITE_DAYS)),
                "credentialSubject": {"name": DEMO_USER, "community": self.community},
            },
            keys,
            created=now,
        )
        body = {
            "invite": ident,
            "recipient_name": DEMO_USER,
            "expires_at": format_datetime(now + timedelta(days=INVITE_DAYS)),
            "token_hash": hashlib.sha256(token.encode()).hexdigest(),
            "credential": credential,
        }
        statement = self.sign(inviter, "identity.create_invite", body)
        await self.call("identity", "create_invite", {"community": self.community, "statement": statement})
        self.state["invite"] = {"id": ident, "token": token, "email": email, "code": invited["code"]}
        self.state["invites_made"] = number
        self.save()

    def invite_url(self, base_url: str) -> str:
        invite = self.state["invite"]
        fragment = urlencode(
            {
                "c": self.community,
                "i": invite["id"],
                "t": invite["token"],
                "e": invite["email"],
                "k": invite["code"],
            }
        )
        return f"{base_url.rstrip('/')}/app/#/join?{fragment}"

    # -- documents, a poll and posts, when their services run ----------------------------------

    async def seed_module(self, key: str, acts: list[Act]) -> bool:
        """Run `acts` once each, remembering every one done; False while their service cannot
        take them yet (not on the bus, or a dependency it names as unavailable), so a later start
        does the rest. An act its service already holds (409) counts as done."""
        if self.state.get(key):
            return False
        done: list[str] = self.state.setdefault("acts_done", [])
        for number, act in enumerate(acts):
            name = f"{key}.{number}"
            if name in done:
                continue
            statement = self.sign(act.signer, f"{act.service}.{act.command}", act.body)
            payload = {"community": self.community, "statement": statement, **act.extra}
            try:
                await self.call(act.service, act.command, payload)
            except CommandUnavailable:
                return False
            except CommandRejected as exc:
                if exc.status == 503:
                    return False
                if exc.status != 409:
                    raise
            done.append(name)
            self.save()
        self.state[key] = True
        self.save()
        return True


@dataclass(frozen=True)
class Act:
    service: str
    command: str
    signer: str
    body: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


HANDBOOK = """# Member handbook

## Opening hours
The shop is open Tuesday to Saturday, 9:00 to 19:00, and Sunday 10:00 to 14:00. It is closed on Mondays.

## Volunteer shifts
Every member works one three-hour shift a month. Sign up on the rota by the 25th for the next month.
Members who cannot volunteer may pay a 15 euro monthly contribution instead.

## Member discount
Members get 10 percent off every purchase, and 20 percent off bulk orders placed before Thursday.

## Decisions
Every member has one vote. Polls stay open for at least seven days, and the result is published
with the full ballot board so anyone can recount it.
"""

BULK_GUIDE = """# Bulk-buying guide

Bulk orders close every Thursday at noon and arrive the next Tuesday. Bring your own jars:
the shop weighs them empty at the counter. Grains, pulses, oils and cleaning products are
available in bulk; fresh produce is not.
"""


def _document(title: str, filename: str, text: str, document: str) -> Act:
    data = text.encode()
    body = {
        "title": title,
        "filename": filename,
        "sha256": hashlib.sha256(data).hexdigest(),
        "document": document,
    }
    return Act(
        "knowledge", "add_document", ADMINS[0].name, body, {"content": base64.b64encode(data).decode()}
    )


def _forums() -> list[Act]:
    ada, cleo, dev = ADMINS[0].name, MEMBERS[0].name, MEMBERS[1].name
    return [
        Act(
            "messaging",
            "create_category",
            ada,
            {
                "category": "general",
                "name": "General",
                "description": "Anything about the co-op.",
            },
        ),
        Act(
            "messaging",
            "create_category",
            ada,
            {
                "category": "suppliers",
                "name": "Suppliers",
                "description": "Farms, bakeries and what they offer.",
            },
        ),
        Act(
            "messaging",
            "start_thread",
            ada,
            {
                "category": "general",
                "thread": "welcome",
                "title": "Welcome! Introduce yourself",
                "body": "Hello everyone, and welcome to the co-op's own space. Tell us who you are and "
                "what you would like to see on the shelves.",
            },
        ),
        Act(
            "messaging",
            "reply",
            cleo,
            {
                "thread": "welcome",
                "body": "Hi all! Cleo here, I run the Thursday bulk orders. Ask me anything.",
            },
        ),
        Act(
            "messaging",
            "start_thread",
            dev,
            {
                "category": "suppliers",
                "thread": "oat-milk",
                "title": "Local oat milk?",
                "body": "Millbrook Farm now makes oat milk in returnable bottles. Worth a try?",
            },
        ),
    ]


def _announcements() -> list[Act]:
    return [
        Act(
            "messaging",
            "compose_announcement",
            ADMINS[0].name,
            {
                "announcement": "spring-assembly",
                "title": "Spring general assembly on 14 March",
                "body": "Our spring assembly is on **14 March at 18:00** in the back room. "
                "The agenda and the accounts are in the library; the market-day poll closes before it.",
            },
        ),
    ]


def _chat() -> list[Act]:
    ben = ADMINS[1].name
    return [
        Act(
            "messaging",
            "create_conversation",
            ben,
            {"kind": "channel", "name": "general", "conversation": "general"},
        ),
        Act(
            "messaging",
            "post_message",
            ben,
            {"conversation": "general", "body": "Good morning! Fresh bread is in."},
        ),
    ]


def _blog(demo: _Demo) -> list[Act]:
    """A First Person Page signed by its author on "her device" (here), and a reader following her."""
    cleo, dev = MEMBERS[0].name, MEMBERS[1].name
    post = "seed-library"
    document = signed_post(
        demo.keys(cleo),
        demo.community,
        post,
        headline="Starting a seed library at the shop",
        body="I have been saving **tomato and bean seeds** for three summers. From next month there is "
        "a box by the till: take a packet, bring one back at the end of the season. #seeds #regenerative",
        hashtags=["seeds", "regenerative"],
    )
    return [
        Act("social", "publish_post", cleo, {"post": post, "document": document}),
        Act("social", "follow", dev, {"author": demo.keys(cleo).did, "hashtags": ["regenerative"]}),
    ]


def _poll(poll: str) -> Act:
    closes = datetime.now(tz=UTC) + timedelta(days=14)
    spec = {
        "kind": "single",
        "title": "Which day should the Saturday market move to?",
        "description": "The square is being repaved from March. Pick the day that suits you best.",
        "options": ["Friday evening", "Saturday morning, on the side street", "Sunday morning"],
    }
    return Act(
        "governance",
        "create_poll",
        ADMINS[0].name,
        {"spec": spec, "closes_at": format_datetime(closes), "poll": poll},
    )


def _meeting(poll: str) -> list[Act]:
    """A time poll for the next members' meeting, three evenings two weeks on, two answers in."""
    first = (datetime.now(tz=UTC) + timedelta(days=14)).replace(hour=18, minute=30, second=0, microsecond=0)
    times = [format_datetime(first + timedelta(days=d)) for d in (0, 2, 7)]
    spec = {
        "kind": "meeting",
        "title": "When shall we hold the autumn members' meeting?",
        "description": "About two hours in the back room: the accounts, the rota and the market move.",
        "options": times,
        "duration_min": 120,
    }
    closes = format_datetime(datetime.now(tz=UTC) + timedelta(days=7))
    return [
        Act("governance", "create_poll", MEMBERS[0].name, {"spec": spec, "closes_at": closes, "poll": poll}),
        Act("governance", "cast_ballot", ADMINS[1].name, {"poll": poll, "choice": [2, 1, 0]}),
        Act("governance", "cast_ballot", MEMBERS[1].name, {"poll": poll, "choice": [0, 2, 2]}),
    ]


async def seed_demo(
    nats_url: str, base_url: str, data_dir: Path, *, community: str = DEMO_COMMUNITY
) -> DemoInfo:
    """Seed (or find) the demo community and return where to open it and the demo user's invite."""
    nc = await connect(nats_url, name="cos-demo-seed")
    try:
        demo = _Demo(nc, data_dir / STATE_FILE, community)
        seeded: list[str] = []
        created = await demo.ensure_community()
        if created:
            seeded.append("community")
        added = [await demo.ensure_member(person) for person in (*ADMINS[1:], *MEMBERS)]
        if any(added):
            seeded.append("members")
        if any([await demo.ensure_applicant(person) for person in APPLICANTS]):
            seeded.append("applicants")
        documents = [
            _document("Member handbook", "handbook.md", HANDBOOK, "member-handbook"),
            _document("Bulk-buying guide", "bulk-buying.md", BULK_GUIDE, "bulk-buying-guide"),
        ]
        if await demo.seed_module("documents", documents):
            seeded.append("documents")
        if await demo.seed_module("poll", [_poll("market-day")]):
            seeded.append("poll")
        if await demo.seed_module("meeting", _meeting("members-meeting")):
            seeded.append("meeting")
        for key, acts in (
            ("forums", _forums()),
            ("announcements", _announcements()),
            ("chat", _chat()),
            ("blog", _blog(demo)),
        ):
            if await demo.seed_module(key, acts):
                seeded.append(key)
        if not await demo.invite_still_open():
            await demo.new_invite()
            seeded.append("invite")
        return DemoInfo(
            community=community,
            name=DEMO_NAME,
            url=f"{base_url.rstrip('/')}/app/",
            invite_url=demo.invite_url(base_url),
            admins=tuple(demo.keys(person.name).did for person in ADMINS),
            members=tuple(demo.keys(person.name).did for person in MEMBERS),
            applicants=tuple(demo.keys(person.name).did for person in APPLICANTS),
            created=created,
            seeded=tuple(seeded),
        )
    finally:
        await nc.close()
