"""RFC 8785 JSON Canonicalization Scheme (JCS) bytes, and strict JSON reading for signed data."""

from __future__ import annotations

import json
from typing import Any

import rfc8785

__all__ = ["JsonError", "canonicalize", "loads_strict"]


class JsonError(ValueError):
    """A value cannot be canonicalised or a text is not JSON that may be signed."""


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value (dict, list, str, number, bool, None)."""
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise JsonError(f"cannot canonicalise as RFC 8785 JSON: {exc}") from exc


def loads_strict(text: str | bytes) -> Any:
    """Parse JSON, refusing duplicate member names and NaN/Infinity, which JCS cannot represent.

    A duplicate name would let a signer and a verifier read different documents from one text.
    """
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise JsonError(f"not valid JSON: {exc}") from exc


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise JsonError(f"duplicate member name {name!r}")
        result[name] = value
    return result


def _no_constant(name: str) -> Any:
    raise JsonError(f"{name} is not a JSON number")
