"""Points from outside are accepted only in the prime-order subgroup; hashes are domain-separated."""

from __future__ import annotations

import nacl.bindings as sodium
import pytest

from services.governance.crypto import InvalidPoint, InvalidScalar
from services.governance.crypto.group import (
    IDENTITY,
    ORDER,
    base_mul,
    hash_to_scalar,
    mul,
    point_from_hex,
    point_hex,
    scalar_from_hex,
    scalar_hex,
)

# Encodings of the eight points of small order (and non-canonical variants), as listed in libsodium's
# and in the "Taming the many EdDSAs" test data.
SMALL_ORDER = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
]


@pytest.mark.parametrize("encoded", SMALL_ORDER)
def test_a_small_order_point_or_the_identity_is_rejected(encoded: str) -> None:
    with pytest.raises(InvalidPoint):
        point_from_hex(encoded)


def test_a_point_with_a_small_order_component_is_rejected() -> None:
    honest = base_mul(12345)
    mixed = bytes(sodium.crypto_core_ed25519_add(honest, bytes.fromhex(SMALL_ORDER[4])))
    assert point_from_hex(point_hex(honest)) == honest
    with pytest.raises(InvalidPoint):
        point_from_hex(point_hex(mixed))


def test_a_non_canonical_or_off_curve_encoding_is_rejected() -> None:
    y_equal_to_p = "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
    off_curve = next(
        y.to_bytes(32, "little").hex() for y in range(2, 100) if not _decompresses(y.to_bytes(32, "little"))
    )
    for encoded in (y_equal_to_p, off_curve, "00" * 31, "zz" * 32, point_hex(base_mul(7)).upper()):
        with pytest.raises(InvalidPoint):
            point_from_hex(encoded)


def _decompresses(encoded: bytes) -> bool:
    try:
        sodium.crypto_core_ed25519_add(encoded, encoded)
    except Exception:  # noqa: BLE001 - libsodium reports an off-curve point as a generic error
        return False
    return True


def test_scalars_must_be_reduced_and_written_in_lowercase() -> None:
    assert scalar_from_hex(scalar_hex(ORDER - 1)) == ORDER - 1
    with pytest.raises(InvalidScalar):
        scalar_from_hex(ORDER.to_bytes(32, "little").hex())
    with pytest.raises(InvalidScalar):
        scalar_from_hex("0A" + "00" * 31)


def test_group_arithmetic_follows_the_exponent_rules() -> None:
    assert mul(base_mul(6), 7) == base_mul(42)
    assert base_mul(ORDER) == IDENTITY
    assert mul(base_mul(3), 0) == IDENTITY


def test_the_challenge_hash_separates_domains_and_field_boundaries() -> None:
    base = hash_to_scalar("range", [b"ab", b"c"])
    assert base != hash_to_scalar("knowledge", [b"ab", b"c"])
    assert base != hash_to_scalar("range", [b"a", b"bc"])
    assert base == hash_to_scalar("range", [b"ab", b"c"])
    assert 0 <= base < ORDER
