"""SLIP-0010 ed25519 test vectors, read from the SLIP-0010 document itself."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from shared.trust.slip10 import derive_path

from .vectors import VECTORS


@dataclass(frozen=True)
class Case:
    name: str
    seed: bytes
    path: str
    chain_code: str
    private: str
    public: str


def _cases() -> list[Case]:
    document = (VECTORS / "slip10" / "slip-0010.md").read_text()
    cases: list[Case] = []
    sections = re.split(r"^### ", document, flags=re.MULTILINE)
    for section in sections:
        title = section.splitlines()[0]
        if not re.fullmatch(r"Test vector \d+ for ed25519", title):
            continue
        seed_line = re.search(r"Seed \(hex\): ([0-9a-f]+)", section)
        assert seed_line is not None, title
        seed = bytes.fromhex(seed_line[1])
        chains = re.findall(
            r"\* Chain (\S+)\n"
            r"  \* fingerprint: [0-9a-f]+\n"
            r"  \* chain code: ([0-9a-f]+)\n"
            r"  \* private: ([0-9a-f]+)\n"
            r"  \* public: ([0-9a-f]+)",
            section,
        )
        for chain, chain_code, private, public in chains:
            path = re.sub(r"<sub>H</sub>", "'", chain)
            cases.append(Case(f"{title}: {path}", seed, path, chain_code, private, public))
    return cases


CASES = _cases()


def test_both_ed25519_vectors_are_parsed_with_every_chain() -> None:
    assert len(CASES) == 12
    assert {case.name.split(":")[0] for case in CASES} == {
        "Test vector 1 for ed25519",
        "Test vector 2 for ed25519",
    }


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_derivation_matches_the_published_chain_code_and_keys(case: Case) -> None:
    node = derive_path(case.seed, case.path)

    assert node.chain_code.hex() == case.chain_code
    assert node.private_key.hex() == case.private
    assert node.slip10_public_key.hex() == case.public
