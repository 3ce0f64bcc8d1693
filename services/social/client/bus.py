"""A one-shot connection to the platform's NATS for command-line clients of `social.cmd.*`."""

from __future__ import annotations

from typing import Any

from shared.commands import CommandClient
from shared.natsclient import connect


async def _quiet(_: Exception) -> None:
    """Connection errors are reported once by the caller, not logged per attempt."""


async def social_request(url: str, name: str, payload: dict[str, Any], wait_s: float = 30) -> Any:
    nc = await connect(
        url,
        name="cos-social-client",
        max_reconnect_attempts=1,
        reconnect_time_wait=0.1,
        connect_timeout=3,
        allow_reconnect=False,
        error_cb=_quiet,
    )
    try:
        return await CommandClient(nc, timeout=wait_s).call("social", name, payload)
    finally:
        await nc.close()
