"""Seed files: the 32 random bytes a key or a shared secret is made from, created once."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from shared.signing import SigningKey, load_or_create_seed


def test_a_seed_is_created_once_private_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "links.seed"
    seed = load_or_create_seed(path)
    assert len(seed) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_seed(path) == seed
    assert SigningKey.load_or_create(path).seed == seed
    assert [p.name for p in path.parent.iterdir()] == ["links.seed"]  # no draft left behind


def test_replicas_starting_together_on_one_volume_share_one_seed(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "links.seed"
    with ThreadPoolExecutor(8) as pool:
        seeds = set(pool.map(lambda _: load_or_create_seed(path), range(32)))
    assert len(seeds) == 1
    assert [p.name for p in path.parent.iterdir()] == ["links.seed"]


def test_a_file_that_is_not_a_seed_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "short.seed"
    path.write_text("abcd")
    with pytest.raises(ValueError, match="2 bytes"):
        load_or_create_seed(path)
