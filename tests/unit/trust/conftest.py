"""Fixtures of the trust tests: a fixed clock, since the trust functions never read one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest


@pytest.fixture
def now() -> datetime:
    return datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
