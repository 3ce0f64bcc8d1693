"""A community leaves its host: export from one deployment, import into another, same state and log."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import nats
import pytest
from nats.aio.client import Client as NATS

from cos.audits.verify import verify_file
from cos.cli import main
from cos.platform import provision
from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from services.identity.bootstrap import start_identity
from services.identity.config import IdentitySettings
from services.membership.bootstrap import MembershipService, start_membership
from services.membership.domain.commands import DirectoryQuery, RollQuery
from services.transparency.bootstrap import TransparencyService, start
from services.transparency.config import TransparencySettings
from shared.bundle import BundleError, export_community, import_community, read_bundle
from shared.natsserver import NatsServer
from shared.testkit.plugin import unique_service
from shared.testkit.polling import eventually_async
from shared.transparency.checkpoint import NoteVerifier, parse_signed_checkpoint
from shared.transparency.merkle import verify_consistency, verify_inclusion

from .test_gateway_membership import Person


@dataclass
class Deployment:
    nc: NATS
    http: httpx.AsyncClient
    membership: MembershipService
    transparency: TransparencyService


@contextlib.asynccontextmanager
async def deployment(url: str, data_dir: Path, name: str) -> AsyncIterator[Deployment]:
    await provision(url)
    nc = await nats.connect(url, name=name)
    identity = await start_identity(nc, url, data_dir / "identity", IdentitySettings())
    membership = await start_membership(nc, url, data_dir / "membership")
    transparency = await start(nc, url, data_dir / "transparency", TransparencySettings(name, 0.05, 0.2))
    app = create_app(GatewaySettings(nats_url=url), [])
    app.state.nats = nc
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http:
            yield Deployment(nc, http, membership, transparency)
    finally:
        await transparency.stop()
        await membership.stop()
        await identity.stop()
        await nc.close()


async def state(d: Deployment, community: str) -> tuple[list[str], list[tuple[str, str]]]:
    roll = await d.membership.handlers.roll_at(RollQuery(community))
    found = await d.membership.handlers.directory_search(DirectoryQuery(community))
    return roll["members"], [(m["name"], m["standing"]) for m in found["members"]]


async def cos(*args: str, url: str) -> tuple[int, str]:
    """Run a `cos` command line in a thread (its own event loop), beside the services of this one."""

    def run() -> tuple[int, str]:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = main([*args, "--nats-url", url])
        return code, out.getvalue()

    return await asyncio.to_thread(run)


async def proofs_over_http(d: Deployment, community: str, member: Person) -> None:
    """The gateway serves the log: checkpoints and consistency to anyone, inclusion to members."""
    base = f"/c/{community}/transparency/membership"
    latest = (await d.http.get(f"{base}/checkpoint")).json()
    signed = parse_signed_checkpoint(latest["note"])
    signed.verify(NoteVerifier.parse(latest["key"]))
    size, root = signed.checkpoint.size, signed.checkpoint.root
    for position in (0, size - 1):
        found = (await member.get(f"/transparency/membership/inclusion?position={position}")).json()
        proof = [base64.b64decode(p) for p in found["proof"]]
        verify_inclusion(position, size, base64.b64decode(found["leaf_hash"]), proof, root)
        assert found["checkpoint"] == latest["note"]
    consistent = (await d.http.get(f"{base}/consistency?old_size=1")).json()
    verify_consistency(
        1,
        size,
        base64.b64decode(consistent["old_root"]),
        root,
        [base64.b64decode(p) for p in consistent["proof"]],
    )
    stranger = await Person(d.http, community).sign_in()
    refused = await stranger.get("/transparency/membership/inclusion?position=0")
    assert (refused.status_code, refused.json()["error"]["type"]) == (403, "not_a_member")
    assert (await d.http.get(f"/c/{community}/transparency/nope/checkpoint")).status_code == 422


async def test_a_community_is_exported_and_re_hosted_with_identical_state(
    own_nats_server: NatsServer, tmp_path: Path
) -> None:
    community = unique_service("c")
    first_bundle, second_bundle = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    async with deployment(own_nats_server.url, tmp_path / "a", "host-a.example") as a:
        ada = await Person(a.http, community).sign_in()
        created = await a.http.post(
            f"/c/{community}",
            json={
                "name": "River Co-op",
                "statement": ada.sign("membership.create_community", {"name": "Ada"}),
            },
            headers=ada.auth,
        )
        assert created.status_code == 201, created.text
        for name in ("Bea", "Cy"):
            someone = await Person(a.http, community).sign_in()
            applied = await a.http.post(
                f"/c/{community}/apply", json={"statement": someone.sign("membership.apply", {"name": name})}
            )
            assert applied.status_code == 200, applied.text
            assert (await ada.act("admit", {"member": someone.did})).status_code == 200
        before = await state(a, community)

        summary = await export_community(a.nc, community, first_bundle)
        assert summary.commits["MEMBERSHIP"] >= 4
        assert (summary.did_logs, summary.status_lists) == (1, 2)
        assert summary.warnings == []
        report = verify_file(first_bundle)
        assert report.ok, report.text()
        await proofs_over_http(a, community, ada)
        code, out = await cos(
            "log", "inclusion", community, "membership", "--position", "2", url=own_nats_server.url
        )
        assert code == 0, out
        assert json.loads(out)["verified"] is True
        code, out = await cos(
            "export", community, "--out", str(tmp_path / "cli.jsonl"), url=own_nats_server.url
        )
        assert code == 0, out
        from_cli = read_bundle(tmp_path / "cli.jsonl").commits("MEMBERSHIP")
        assert [c.data for c in from_cli] == [c.data for c in read_bundle(first_bundle).commits("MEMBERSHIP")]
        with pytest.raises(BundleError, match="already has commits"):
            # the community is hosted here, and has moved on since (the stranger's session)
            await import_community(a.nc, read_bundle(first_bundle))

    second = NatsServer(store_dir=tmp_path / "nats-b", name="host-b")
    second.start()
    try:
        async with deployment(second.url, tmp_path / "b", "host-b.example") as b:
            code, out = await cos("import", str(first_bundle), "--json", url=second.url)
            assert code == 0, out
            assert json.loads(out)["commits"] == summary.commits
            again_imported = await import_community(b.nc, read_bundle(first_bundle))  # resumable, idempotent
            assert set(again_imported.commits.values()) == {0}

            async def same_state() -> bool:
                try:
                    return await state(b, community) == before
                except Exception:  # noqa: BLE001 - not yet caught up: the community is unknown
                    return False

            assert await eventually_async(same_state, within=30), await state(b, community)

            await Person(b.http, community).sign_in()  # the community's log grows on its new host
            again = await export_community(b.nc, community, second_bundle)
            # This deployment does not hold the community's did:webvh key: its status lists would not
            # verify under the DID, so they are left out, with a warning saying why.
            assert (again.did_logs, again.status_lists) == (1, 0)
            assert any("does not hold the community's key" in w for w in again.warnings)
            bundle = read_bundle(second_bundle)
            origins = {
                parse_signed_checkpoint(c.note).checkpoint.origin.split("/")[0] for c in bundle.checkpoints
            }
            assert origins == {"host-a.example", "host-b.example"}  # one log, carried across hosts
            assert [c.data for c in bundle.commits("MEMBERSHIP")] == [
                c.data for c in read_bundle(first_bundle).commits("MEMBERSHIP")
            ]
            report = verify_file(second_bundle)
            assert report.ok, report.text()
    finally:
        second.close()
