"""`cos community create|import|export` against a running membership service on real NATS."""

from __future__ import annotations

import asyncio
import io
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.client import Client as NATS

from cos.cli import main
from services.membership.adapters.fakes import FakeCredentials
from services.membership.bootstrap import MembershipService, start_membership
from shared.testkit.plugin import unique_service
from shared.trust.member_keys import MemberKeys
from shared.trust.recovery import new_phrase

from .test_membership_service import fake_identity


@pytest.fixture
async def platform(nc: NATS, nats_url: str, tmp_path: Path) -> AsyncIterator[MembershipService]:
    identity = fake_identity(FakeCredentials())
    await identity.start(nc)
    service = await start_membership(nc, nats_url, tmp_path)
    yield service
    await service.stop()
    await identity.stop()


async def cos(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_a_hosting_provider_creates_a_community_then_its_admin_imports_and_exports(
    platform: MembershipService,
    nats_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    phrase = new_phrase()
    admin = MemberKeys.from_phrase(phrase)
    slug = unique_service("guild")
    assert (
        await cos(
            "community", "--nats-url", nats_url, "create", slug, "--name", "Guild", "--admin", admin.did
        )
        == 0
    )
    assert f"community {slug} created: Guild" in capsys.readouterr().out

    sheet = tmp_path / "members.csv"
    sheet.write_text("name,email\nBea,bea@guild.example\n,broken@guild.example\n")
    monkeypatch.setattr("sys.stdin", io.StringIO(phrase))
    assert await cos("community", "--nats-url", nats_url, "import", slug, str(sheet)) == 0
    dry = capsys.readouterr().out
    assert "1 valid, 1 invalid, 0 already members (dry run, nothing recorded)" in dry
    assert "name is required" in dry

    monkeypatch.setattr("sys.stdin", io.StringIO(phrase))
    assert await cos("community", "--nats-url", nats_url, "import", slug, str(sheet), "--apply") == 1
    assert "refused (import_has_broken_rows)" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(phrase))
    assert (
        await cos(
            "community", "--nats-url", nats_url, "import", slug, str(sheet), "--apply", "--import-valid"
        )
        == 0
    )
    assert "(1 imported)" in capsys.readouterr().out

    monkeypatch.setattr("sys.stdin", io.StringIO(phrase))
    assert await cos("community", "--nats-url", nats_url, "export", slug) == 0
    exported = capsys.readouterr().out
    assert exported.splitlines()[0].startswith("name,email,external_id,did,type,roles,tags,status")
    assert "Bea,bea@guild.example" in exported


async def test_without_a_running_platform_the_cli_says_how_to_start_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"nats://127.0.0.1:{port}"
    code = await cos(
        "community", "--nats-url", url, "create", "acme", "--name", "Acme", "--admin", "did:key:z6Mk"
    )
    assert code == 3
    assert "no Community OS platform answers" in capsys.readouterr().err
