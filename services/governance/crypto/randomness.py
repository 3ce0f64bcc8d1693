"""Where the secret scalars come from: the OS by default, a seeded stream when a test needs repeatability."""

from __future__ import annotations

import hashlib
import secrets
from typing import Protocol

from .group import ORDER


class Randomness(Protocol):
    """A source of uniformly random non-zero scalars mod L."""

    def scalar(self) -> int:
        """A fresh scalar in [1, L-1]."""
        ...


def _nonzero(wide: bytes) -> int:
    # 64 bytes reduced mod L: the bias is about 2^-259, far below anything observable.
    return int.from_bytes(wide, "little") % (ORDER - 1) + 1


class SystemRandomness:
    """Scalars from the operating system's CSPRNG (`secrets`). Use this for real ballots and keys."""

    def scalar(self) -> int:
        """A fresh scalar in [1, L-1]."""
        return _nonzero(secrets.token_bytes(64))


class DeterministicRandomness:
    """A repeatable stream derived from a seed, for tests and published examples only.

    Anyone who knows the seed knows every secret derived from it, so ballots made with it are not secret.
    """

    def __init__(self, seed: bytes) -> None:
        self._seed = seed
        self._counter = 0

    def scalar(self) -> int:
        """The next scalar of the stream."""
        self._counter += 1
        block = hashlib.sha512(b"deterministic-randomness/" + self._seed + self._counter.to_bytes(8, "big"))
        return _nonzero(block.digest())
