"""Where the committed public test vectors live (see tests/vectors/README.md for their sources)."""

from __future__ import annotations

from pathlib import Path

VECTORS = Path(__file__).resolve().parents[2] / "vectors"

# A phrase anyone can type: BIP-39's all-zero 256-bit entropy ("abandon" x23, then "art").
ZERO_PHRASE = " ".join(["abandon"] * 23 + ["art"])
