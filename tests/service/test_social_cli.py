"""`cos vault` and `cos blog` as clients of a real social service on JetStream."""

from __future__ import annotations

import asyncio
import io
import json
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.client import Client as NATS

from cos.cli import main as cos
from services.social.adapters.fakes import FakeRoster
from services.social.bootstrap import SocialService, start_social
from services.social.client.vault_crypto import VaultKeys
from shared.trust.recovery import new_phrase


@pytest.fixture
async def social(nc: NATS, nats_url: str, tmp_path: Path) -> AsyncIterator[tuple[SocialService, FakeRoster]]:
    roster = FakeRoster()
    service = await start_social(nc, nats_url, tmp_path / "social", roster=roster)
    yield service, roster
    await service.stop()


async def run(*argv: str) -> int:
    return await asyncio.to_thread(cos, list(argv))


async def test_a_vault_written_on_one_machine_is_restored_on_another_from_the_phrase_alone(
    social: tuple[SocialService, FakeRoster],
    nats_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, roster = social
    community, phrase = f"c{uuid.uuid4().hex[:10]}", new_phrase()
    roster.admit(community, VaultKeys.from_phrase(phrase).member.did)
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    (laptop / "phrase.txt").write_text(phrase)
    (laptop / "notes.md").write_text("call the seed library")
    (laptop / "id.json").write_text('{"type": ["VerifiableCredential"]}')
    scan = os.urandom(200 * 1024)  # larger than one item: stored in parts
    (laptop / "scan.pdf").write_bytes(scan)
    vault = [
        "vault",
        "--nats-url",
        nats_url,
        "--community",
        community,
        "--phrase-file",
        str(laptop / "phrase.txt"),
    ]
    assert await run(*vault, "put", "notes", str(laptop / "notes.md"), "--kind", "note") == 0
    (laptop / "notes.md").write_text("call the seed library; bring jars")
    assert await run(*vault, "put", "notes", str(laptop / "notes.md"), "--kind", "note") == 0
    assert (
        await run(*vault, "put", "membership credential", str(laptop / "id.json"), "--kind", "credential")
        == 0
    )
    assert await run(*vault, "put", "scan.pdf", str(laptop / "scan.pdf")) == 0

    # A new machine: no files, no keyfile, only the phrase typed in again.
    phone = tmp_path / "phone"
    phone.mkdir()
    (phone / "phrase.txt").write_text(phrase)
    vault_on_phone = [*vault[:-1], str(phone / "phrase.txt")]
    assert await run(*vault_on_phone, "restore", str(phone / "restored")) == 0
    assert (phone / "restored" / "notes").read_text() == "call the seed library; bring jars"
    assert (phone / "restored" / "membership credential").read_text() == '{"type": ["VerifiableCredential"]}'
    assert (phone / "restored" / "scan.pdf").read_bytes() == scan
    capsys.readouterr()
    assert await run(*vault_on_phone, "list") == 0
    listed = capsys.readouterr().out.splitlines()
    assert sorted(line.split("\t")[:3] for line in listed) == [
        ["membership credential", "credential", "v1"],
        ["notes", "note", "v2"],
        ["scan.pdf", "file", "v1"],
    ]

    wrong = tmp_path / "wrong.txt"
    wrong.write_text(new_phrase())
    assert await run(*vault[:-1], str(wrong), "get", "notes") == 1  # another phrase: not a member, no vault


async def test_cos_blog_publishes_a_signed_post_and_exports_it_for_verification(
    social: tuple[SocialService, FakeRoster],
    nats_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, roster = social
    community, phrase = f"c{uuid.uuid4().hex[:10]}", new_phrase()
    roster.admit(community, VaultKeys.from_phrase(phrase).member.did)
    body = tmp_path / "post.md"
    body.write_text("Seeds are a commons.")
    monkeypatch.setattr("sys.stdin", io.StringIO(phrase))
    blog = ["blog", "--nats-url", nats_url]
    publish = [
        *blog,
        "publish",
        str(body),
        "--community",
        community,
        "--headline",
        "Seeds",
        "--hashtag",
        "#Commons",
    ]
    assert await run(*publish, "--post", "seeds") == 0
    capsys.readouterr()
    assert await run(*blog, "list", "--community", community, "--hashtag", "commons") == 0
    assert capsys.readouterr().out.split("\t")[0] == "seeds"
    exported = tmp_path / "seeds.json"
    assert await run(*blog, "export", "seeds", "--community", community, "--out", str(exported)) == 0
    assert json.loads(exported.read_text())["credentialSubject"]["headline"] == "Seeds"
    assert await run("blog", "verify", str(exported)) == 0
    assert await run("vc", "verify", str(exported)) == 0
    assert await run(*blog, "export", "nope", "--community", community) == 1

    # She revises it: a new headline, the body and hashtags kept; the revision is signed anew,
    # keeps the first datePublished, and verifies.
    first = json.loads(exported.read_text())["credentialSubject"]
    capsys.readouterr()
    revise = [*blog, "revise", "seeds", "--community", community]
    monkeypatch.setattr("sys.stdin", io.StringIO(phrase))
    assert await run(*revise, "--headline", "Seeds are ours") == 0
    assert json.loads(capsys.readouterr().out) == {"post": "seeds", "revisions": 1}
    assert await run(*blog, "export", "seeds", "--community", community, "--out", str(exported)) == 0
    subject = json.loads(exported.read_text())["credentialSubject"]
    assert (subject["headline"], subject["articleBody"], subject["keywords"]) == (
        "Seeds are ours",
        "Seeds are a commons.",
        ["commons"],
    )
    assert subject["datePublished"] == first["datePublished"]
    assert "dateModified" in subject
    assert await run("blog", "verify", str(exported)) == 0
    # The same again changes nothing and is refused; another member cannot revise her post.
    monkeypatch.setattr("sys.stdin", io.StringIO(phrase))
    assert await run(*revise, "--headline", "Seeds are ours") == 1
    assert "unchanged" in capsys.readouterr().err
    other = new_phrase()
    roster.admit(community, VaultKeys.from_phrase(other).member.did)
    monkeypatch.setattr("sys.stdin", io.StringIO(other))
    assert await run(*revise, "--headline", "Mine now") == 1
    assert "not_the_author" in capsys.readouterr().err
