"""Fixtures of the ballot-crypto tests: seeded randomness and one 3-of-5 trustee ceremony per session."""

from __future__ import annotations

import pytest

from services.governance.crypto import (
    BallotRules,
    DeterministicRandomness,
    PollKey,
    TrusteeKey,
    TrusteeSetup,
    election_public_key,
    run_ceremony_in_one_process,
)
from services.governance.crypto.group import point_hex

POLL_ID = "acme.poll.p1"
SINGLE_CHOICE = BallotRules(options=3, max_per_option=1, min_total=1, max_total=1)


@pytest.fixture
def rng() -> DeterministicRandomness:
    return DeterministicRandomness(b"governance-crypto-tests")


@pytest.fixture(scope="session")
def ceremony() -> tuple[TrusteeSetup, tuple[TrusteeKey, ...]]:
    return run_ceremony_in_one_process(POLL_ID, 3, 5, DeterministicRandomness(b"ceremony"))


@pytest.fixture(scope="session")
def poll(ceremony: tuple[TrusteeSetup, tuple[TrusteeKey, ...]]) -> PollKey:
    return PollKey(
        poll_id=POLL_ID, public_key=point_hex(election_public_key(ceremony[0])), rules=SINGLE_CHOICE
    )
