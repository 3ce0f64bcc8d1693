"""The gateway's guards: per-client rate limits (typed 429, Retry-After) and CORS for listed origins."""

from __future__ import annotations

import httpx

from services.gateway.app import create_app
from services.gateway.config import GatewaySettings, RateLimits
from services.gateway.limits import RateLimit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_buckets_refill_at_their_rate_and_keep_clients_and_kinds_apart() -> None:
    clock = Clock()
    limits = RateLimits(read_per_s=2, read_burst=3, write_per_s=1, write_burst=1)
    limiter = RateLimit(app=None, limits=limits, clock=clock)  # type: ignore[arg-type]
    assert [limiter.take("addr:a", write=False) for _ in range(3)] == [0, 0, 0]
    assert limiter.take("addr:a", write=False) == 0.5  # one token comes back in half a second
    assert limiter.take("addr:b", write=False) == 0  # another client has her own bucket
    assert limiter.take("addr:a", write=True) == 0  # writes are counted apart from reads
    assert limiter.take("addr:a", write=True) == 1.0
    clock.now += 0.5
    assert limiter.take("addr:a", write=False) == 0


async def test_a_flood_gets_typed_429s_with_retry_after_and_health_stays_exempt() -> None:
    limits = RateLimits(read_per_s=0.01, read_burst=5, write_per_s=0.01, write_burst=2)
    app = create_app(GatewaySettings(nats_url="nats://127.0.0.1:1", rate_limits=limits), [])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        reads = [await client.get("/no/such/page") for _ in range(7)]
        assert [r.status_code for r in reads] == [404] * 5 + [429] * 2
        refused = reads[-1]
        assert refused.json()["error"]["type"] == "rate_limited"
        assert int(refused.headers["retry-after"]) >= 1
        assert (await client.get("/healthz")).status_code != 429
        writes = [await client.post("/no/such/page", json={}) for _ in range(3)]
        assert [w.status_code for w in writes][-1] == 429
        other = {"authorization": "Bearer someone-else"}
        assert (await client.get("/no/such/page", headers=other)).status_code == 404
    off = create_app(
        GatewaySettings(nats_url="nats://127.0.0.1:1", rate_limits=RateLimits(enabled=False)), []
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=off), base_url="http://gw") as client:
        assert {(await client.get("/no/such/page")).status_code for _ in range(400)} == {404}


async def test_cross_origin_calls_are_allowed_only_from_listed_origins() -> None:
    listed = "https://members.example.org"
    app = create_app(GatewaySettings(nats_url="nats://127.0.0.1:1", cors_origins=(listed,)), [])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        preflight = {
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization",
        }
        allowed = await client.options("/c/demo/auth/challenge", headers={"origin": listed, **preflight})
        assert allowed.headers["access-control-allow-origin"] == listed
        assert "access-control-allow-credentials" not in allowed.headers
        other = await client.options(
            "/c/demo/auth/challenge", headers={"origin": "https://evil.example", **preflight}
        )
        assert "access-control-allow-origin" not in other.headers
    default = create_app(GatewaySettings(nats_url="nats://127.0.0.1:1"), [])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=default), base_url="http://gw") as client:
        answer = await client.get("/healthz", headers={"origin": listed})
        assert "access-control-allow-origin" not in answer.headers
