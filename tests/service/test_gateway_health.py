"""Gateway readiness tells the truth: typed 503s when a stream is missing or the bus is down."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from shared.natsserver import NatsServer


def test_readiness_names_the_missing_stream_and_the_lost_bus(own_nats_server: NatsServer) -> None:
    app = create_app(GatewaySettings(nats_url=own_nats_server.url), ["NOSUCHSTREAM"])
    with TestClient(app) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        missing = client.get("/readyz")
        assert missing.status_code == 503
        assert missing.json()["error"]["type"] == "stream_missing"
        assert "NOSUCHSTREAM" in missing.json()["error"]["message"]

        own_nats_server.kill()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            down = client.get("/readyz")
            if down.json()["error"]["type"] == "nats_unavailable":
                break
            time.sleep(0.1)
        assert down.status_code == 503
        assert down.json()["error"]["type"] == "nats_unavailable"
        assert client.get("/healthz").status_code == 200  # alive, just not ready
