"""RFC 8785 (JCS) test data from cyberphone/json-canonicalization: inputs canonicalise to outputs."""

from __future__ import annotations

import re
import struct

import pytest

from shared.trust.canonical_json import canonicalize, loads_strict

from .vectors import VECTORS

JCS = VECTORS / "rfc8785"
NAMES = sorted(path.stem for path in (JCS / "input").glob("*.json"))


def test_all_six_test_data_files_are_present() -> None:
    assert NAMES == ["arrays", "french", "structures", "unicode", "values", "weird"]


@pytest.mark.parametrize("name", NAMES)
def test_input_canonicalises_to_the_expected_output(name: str) -> None:
    document = loads_strict((JCS / "input" / f"{name}.json").read_bytes())

    assert canonicalize(document) == (JCS / "output" / f"{name}.json").read_bytes()


@pytest.mark.parametrize("name", NAMES)
def test_output_matches_the_published_hex_bytes(name: str) -> None:
    document = loads_strict((JCS / "input" / f"{name}.json").read_bytes())
    expected = bytes.fromhex("".join((JCS / "outhex" / f"{name}.txt").read_text().split()))

    assert canonicalize(document) == expected


def _number_samples() -> list[tuple[str, str]]:
    readme = (JCS / "TESTDATA-README.md").read_text()
    block = readme.split("Sample lines:", 1)[1].split("```code", 1)[1].split("```", 1)[0]
    return re.findall(r"^([0-9a-f]{1,16}),(\S+)$", block, flags=re.MULTILINE)


def test_es6_number_samples_serialise_as_published() -> None:
    samples = _number_samples()
    assert len(samples) >= 5
    for ieee_hex, expected in samples:
        number = struct.unpack(">d", bytes.fromhex(ieee_hex.rjust(16, "0")))[0]
        assert canonicalize(number).decode() == expected, ieee_hex
