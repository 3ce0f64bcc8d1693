"""Load through the gateway: communities x members issuing a mix of commands over HTTP.

Usage: `cos bench load [--steps 10,100,1000] [--members 1] [--commands 400] [--concurrency 16]
[--gateways 1] [--json]`.

Starts a nats-server and the platform as separate `cos serve` processes on loopback (streams
provisioned, identity, membership, messaging, `--gateways` gateway replicas), then grows the
platform to each step's number of communities: every community is created by a founder who signs
in with her did:key and opens the channel `general`, and `--members` members sign in, apply and
are admitted, all through the gateway's HTTP API with real tokens and signed statements. At each
step it drives `--commands` commands, spread over every community so far by `--concurrency`
concurrent clients, in a fixed mix:

    reads   roll 20%, directory 10%, member record 10%, the channel's messages 10%
    writes  update_profile 15%, suspend/reinstate 10%, a newcomer joins 15% (sign-in, apply,
            admit), a signed message in the channel 10%

Creating a community and admitting a member are retried (re-signed, up to 3 times) when refused
as busy (503) or conflicting (409), as a client would; every attempt counts in the figures. It
prints, per step, sustained commands/s, p50/p99 latency (all and per kind), refusals, and
the resident memory of each service process; then how cost grows from the first step to the last.
The last line is one JSON object. Figures are same-run measurements on this machine, for
comparison between steps; nothing here is a pass/fail timing assertion.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import secrets
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from cos.commands.serve import ServeProcess
from shared.natsserver import NatsServer, free_port
from shared.signing import SigningKey
from shared.statements import sign_statement
from shared.trust.member_keys import MemberKeys

RETRIES = 3  # of a command refused as busy (503) or conflicting (409)
MIX: tuple[tuple[str, int], ...] = (
    ("roll", 20),
    ("directory", 10),
    ("member", 10),
    ("chat_read", 10),
    ("update_profile", 15),
    ("suspend_reinstate", 10),
    ("join", 15),
    ("chat_post", 10),
)
CHANNEL = "general"


@dataclass
class Sample:
    kind: str
    seconds: float
    status: int
    error: str = ""


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)

    def add(self, kind: str, started: float, response: httpx.Response) -> httpx.Response:
        error = _error_type(response) if response.status_code >= 400 else ""
        self.samples.append(Sample(kind, time.perf_counter() - started, response.status_code, error))
        return response


class Member:
    """One person: a did:key, a session, and the statements she signs."""

    def __init__(self, community: str) -> None:
        self.keys = MemberKeys(SigningKey.generate())
        self.community = community
        self.auth: dict[str, str] = {}
        self.active = False
        self.lock = asyncio.Lock()  # one admin act on her at a time (suspend xor reinstate)

    @property
    def did(self) -> str:
        return self.keys.did

    def sign(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        return sign_statement(
            self.keys,
            action=action,
            community=self.community,
            body=body,
            nonce=secrets.token_hex(16),
            now=datetime.now(tz=UTC),
        )


@dataclass
class Community:
    slug: str
    founder: Member
    members: list[Member] = field(default_factory=list)


class Driver:
    """Issues commands through the gateway replicas in turn, timing each request."""

    def __init__(self, clients: list[httpx.AsyncClient], recorder: Recorder) -> None:
        self._clients = itertools.cycle(clients)
        self.recorder = recorder

    async def request(self, kind: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        client = next(self._clients)
        started = time.perf_counter()
        response = await client.request(method, path, **kwargs)
        return self.recorder.add(kind, started, response)

    async def sign_in(self, person: Member) -> None:
        base = f"/c/{person.community}/auth"
        challenge = await self.request("sign_in", "POST", f"{base}/challenge", json={"member": person.did})
        _expect(challenge)
        answer = person.sign("identity.sign_in", {"challenge": challenge.json()["challenge"]})
        tokens = await self.request("sign_in", "POST", f"{base}/sign-in", json={"statement": answer})
        _expect(tokens)
        person.auth = {"Authorization": f"Bearer {tokens.json()['access_token']}"}

    async def act(
        self, kind: str, actor: Member, act: str, body: dict[str, Any], service: str = "membership"
    ) -> httpx.Response:
        statement = actor.sign(f"{service}.{act}", body)
        prefix = "" if service == "membership" else f"/{service}"
        path = f"/c/{actor.community}{prefix}/acts/{act}"
        return await self.request(kind, "POST", path, json={"statement": statement}, headers=actor.auth)

    async def retrying(
        self,
        attempt: Callable[[], Awaitable[httpx.Response]],
        done: Callable[[httpx.Response], Awaitable[bool]],
    ) -> None:
        """What a client does with "busy, try again" (503, 409): retry a few times, re-signing each
        time; `done` tells whether a refusal after a retry means an earlier attempt succeeded
        (it was answered too late). Every attempt is a sample, so refusals show in the figures."""
        for retry in range(RETRIES + 1):
            response = await attempt()
            if response.status_code < 400 or (retry and await done(response)):
                return
            if response.status_code not in (409, 503) or retry == RETRIES:
                break
            await asyncio.sleep(0.2 * 2**retry)
        _expect(response)

    async def create(self, slug: str) -> Community:
        founder = Member(slug)
        await self.sign_in(founder)

        async def attempt() -> httpx.Response:
            statement = founder.sign("membership.create_community", {"name": "Founder"})
            body = {"name": f"Co-op {slug}", "statement": statement}
            return await self.request(
                "create_community", "POST", f"/c/{slug}", json=body, headers=founder.auth
            )

        async def exists(response: httpx.Response) -> bool:
            return _error_type(response) == "community_exists"

        await self.retrying(attempt, exists)
        founder.active = True

        async def open_channel() -> httpx.Response:
            body = {"kind": "channel", "name": "General", "conversation": CHANNEL}
            return await self.act("open_channel", founder, "create_conversation", body, service="messaging")

        async def opened(response: httpx.Response) -> bool:
            return _error_type(response) in ("conversation_exists", "already_exists")

        await self.retrying(open_channel, opened)
        return Community(slug, founder)

    async def join(self, community: Community, kind: str = "join") -> Member:
        person = Member(community.slug)
        await self.sign_in(person)
        applied = await self.request(
            kind,
            "POST",
            f"/c/{community.slug}/apply",
            json={"statement": person.sign("membership.apply", {"name": "Member"})},
        )
        _expect(applied)
        founder = community.founder

        async def admit() -> httpx.Response:
            return await self.act(kind, founder, "admit", {"member": person.did})

        async def admitted(_: httpx.Response) -> bool:
            path = f"/c/{community.slug}/members/{person.did}"
            record = await self.request("member", "GET", path, headers=founder.auth)
            return record.status_code == 200 and record.json().get("standing") == "active"

        await self.retrying(admit, admitted)
        person.active = True
        community.members.append(person)
        return person


def _error_type(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["type"])
    except (ValueError, KeyError, TypeError):
        return f"http_{response.status_code}"


def _expect(response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.method} {response.request.url.path}: {response.text}")


async def _one_command(driver: Driver, rng: random.Random, communities: list[Community]) -> None:
    community = rng.choice(communities)
    kind = rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX])[0]
    readers = [m for m in (community.founder, *community.members) if m.active and not m.lock.locked()]
    reader = rng.choice(readers)
    slug = community.slug
    if kind == "roll":
        await driver.request(kind, "GET", f"/c/{slug}/roll", headers=reader.auth)
    elif kind == "directory":
        await driver.request(kind, "GET", f"/c/{slug}/directory", headers=reader.auth)
    elif kind == "member":
        await driver.request(kind, "GET", f"/c/{slug}/members/{reader.did}", headers=reader.auth)
    elif kind == "update_profile":
        await driver.act(kind, reader, "update_profile", {"name": f"Member {rng.randrange(10**6)}"})
    elif kind == "chat_read":
        path = f"/c/{slug}/messaging/conversations/{CHANNEL}/messages"
        await driver.request(kind, "GET", path, headers=reader.auth)
    elif kind == "chat_post":
        body = {"conversation": CHANNEL, "body": f"Hello from {reader.did[-6:]} ({rng.randrange(10**6)})"}
        await driver.act(kind, reader, "post_message", body, service="messaging")
    elif kind == "suspend_reinstate" and community.members:
        target = rng.choice(community.members)
        async with target.lock:
            act = "suspend" if target.active else "reinstate"
            response = await driver.act(kind, community.founder, act, {"member": target.did})
            if response.status_code < 400:
                target.active = not target.active
    else:
        await driver.join(community)


async def _drive(
    driver: Driver, communities: list[Community], commands: int, concurrency: int, seed: int
) -> tuple[list[Sample], float]:
    """Issue mixed commands until at least `commands` requests completed; samples and wall time."""
    start_index = len(driver.recorder.samples)
    rng = random.Random(seed)

    async def worker() -> None:
        while len(driver.recorder.samples) - start_index < commands:
            await _one_command(driver, rng, communities)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return driver.recorder.samples[start_index:], time.perf_counter() - started


async def _grow(
    driver: Driver, communities: list[Community], target: int, members: int, concurrency: int
) -> tuple[list[Sample], float]:
    start_index = len(driver.recorder.samples)
    todo = iter(range(len(communities), target))
    run = secrets.token_hex(3)

    async def worker() -> None:
        for index in todo:
            community = await driver.create(f"load-{run}-{index}")
            for _ in range(members):
                await driver.join(community, kind="setup_join")
            communities.append(community)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return driver.recorder.samples[start_index:], time.perf_counter() - started


def _ms(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)


def _summary(samples: list[Sample], seconds: float) -> dict[str, Any]:
    times = [s.seconds for s in samples]
    by_kind: dict[str, list[float]] = defaultdict(list)
    for sample in samples:
        by_kind[sample.kind].append(sample.seconds)
    return {
        "commands": len(samples),
        "seconds": round(seconds, 2),
        "per_s": round(len(samples) / seconds, 1) if seconds else 0.0,
        "p50_ms": _ms(times, 0.50),
        "p99_ms": _ms(times, 0.99),
        "mean_ms": round(statistics.fmean(times) * 1000, 2) if times else 0.0,
        "refusals": dict(Counter(s.error for s in samples if s.error)),
        "by_kind": {
            kind: {"n": len(values), "p50_ms": _ms(values, 0.50), "p99_ms": _ms(values, 0.99)}
            for kind, values in sorted(by_kind.items())
        },
    }


async def _stored_commits(client: httpx.AsyncClient) -> dict[str, int]:
    """Messages in each stream, from the gateway's readiness report."""
    ready = (await client.get("/readyz")).json()
    return {s["name"]: s["messages"] for s in ready.get("streams", []) if s["messages"]}


def _rss_mb(process: ServeProcess) -> float:
    pid = process.pid
    if pid is None:
        return 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


async def run_load(args: argparse.Namespace, nats_url: str, data_dir: Path, log: Any) -> dict[str, Any]:
    steps = sorted({int(s) for s in str(args.steps).split(",") if s.strip()})
    ports: set[int] = set()
    while len(ports) < 3 + args.gateways:
        ports.add(free_port())
    port_list = sorted(ports)
    # the bench measures the services, not the gateway's per-client limiter (one address, many clients)
    env = {"COS_PUBLIC_PORT": str(port_list[3]), "COS_RATE_LIMIT": "off"}
    provision = ServeProcess("provision", nats_url, data_dir, port=port_list[0])
    provision.start()
    if await asyncio.to_thread(provision.wait) != 0:
        raise RuntimeError(f"provisioning failed:\n{provision.read_output()}")
    services = [
        ServeProcess("identity", nats_url, data_dir, port=port_list[0], env=env),
        ServeProcess("membership", nats_url, data_dir, port=port_list[1], env=env),
        ServeProcess("messaging", nats_url, data_dir, port=port_list[2], env=env),
    ]
    gateways = [ServeProcess("gateway", nats_url, data_dir, port=p, env=env) for p in port_list[3:]]
    processes = [*services, *gateways]
    for process in processes:
        process.start()
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    try:
        for process in processes:
            await asyncio.to_thread(process.ready, 120.0)
        clients = [httpx.AsyncClient(base_url=g.url, limits=limits, timeout=60) for g in gateways]
        recorder = Recorder()
        driver = Driver(clients, recorder)
        communities: list[Community] = []
        results: list[dict[str, Any]] = []
        try:
            for number, step in enumerate(steps):
                setup, setup_s = await _grow(driver, communities, step, args.members, args.concurrency)
                mixed, mixed_s = await _drive(driver, communities, args.commands, args.concurrency, number)
                result: dict[str, Any] = {
                    "communities": step,
                    "members": sum(1 + len(c.members) for c in communities),
                    "setup": _summary(setup, setup_s),
                    "mix": _summary(mixed, mixed_s),
                    "rss_mb": {p.service: _rss_mb(p) for p in services},
                    "stored_commits": await _stored_commits(clients[0]),
                }
                results.append(result)
                mix = result["mix"]
                log(
                    f"{step:>6} communities {result['members']:>6} members | setup "
                    f"{result['setup']['per_s']:>7.1f} cmd/s | mix {mix['per_s']:>7.1f} cmd/s "
                    f"p50 {mix['p50_ms']:>7.1f} ms p99 {mix['p99_ms']:>7.1f} ms | refusals "
                    f"{sum(mix['refusals'].values())} | rss identity {result['rss_mb']['identity']} MB "
                    f"membership {result['rss_mb']['membership']} MB "
                    f"messaging {result['rss_mb']['messaging']} MB | stored "
                    f"{sum(result['stored_commits'].values())} messages"
                )
        finally:
            for client in clients:
                await client.aclose()
    finally:
        for process in processes:
            process.stop()
    first, last = results[0]["mix"], results[-1]["mix"]
    growth = {
        "from_communities": steps[0],
        "to_communities": steps[-1],
        "throughput_ratio": round(last["per_s"] / first["per_s"], 3) if first["per_s"] else None,
        "p50_ratio": round(last["p50_ms"] / first["p50_ms"], 3) if first["p50_ms"] else None,
        "p99_ratio": round(last["p99_ms"] / first["p99_ms"], 3) if first["p99_ms"] else None,
        "membership_rss_ratio": (
            round(results[-1]["rss_mb"]["membership"] / results[0]["rss_mb"]["membership"], 3)
            if results[0]["rss_mb"]["membership"]
            else None
        ),
    }
    return {
        "gateways": args.gateways,
        "concurrency": args.concurrency,
        "members_per_community": args.members,
        "commands_per_step": args.commands,
        "steps": results,
        "growth": growth,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--steps", default="10,100,1000", help="community counts, comma-separated")
    parser.add_argument("--members", type=int, default=1, help="members admitted per community (+ founder)")
    parser.add_argument("--commands", type=int, default=400, help="mixed commands measured per step")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients")
    parser.add_argument("--gateways", type=int, default=1, help="gateway replicas (round-robin)")
    parser.add_argument("--json", action="store_true", help="only the JSON result line")


def execute(args: argparse.Namespace) -> int:
    if args.concurrency < 1 or args.gateways < 1 or args.members < 1 or args.commands < 1:
        print("cos bench load: --concurrency, --gateways, --members and --commands must be >= 1")
        return 2

    def log(line: str) -> None:
        if not args.json:
            print(line, flush=True)

    with (
        tempfile.TemporaryDirectory(prefix="cos-load-") as tmp,
        NatsServer(store_dir=Path(tmp) / "nats") as nats,
    ):
        log(f"nats-server {nats.url}; platform as cos serve processes; data in {tmp}")
        result = asyncio.run(run_load(args, nats.url, Path(tmp) / "data", log))
    if not args.json:
        growth = result["growth"]
        print(
            f"from {growth['from_communities']} to {growth['to_communities']} communities: throughput x"
            f"{growth['throughput_ratio']}, p50 x{growth['p50_ratio']}, p99 x{growth['p99_ratio']}, "
            f"membership memory x{growth['membership_rss_ratio']}"
        )
    print(json.dumps(result))
    return 0
