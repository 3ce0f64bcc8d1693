"""The library's example application, run on the JetStream persistence module and a real server."""

from __future__ import annotations

import os
import uuid

import pytest
from eventsourcing.tests import application as library_cases


@pytest.fixture(autouse=True)
def _jetstream_env(nats_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSISTENCE_MODULE", "shared.persistence.jetstream")
    monkeypatch.setenv("NATS_URL", nats_url)
    monkeypatch.setenv("NATS_STREAM", "BANK" + uuid.uuid4().hex[:10].upper())


class TestBankAccountsOnJetStream(library_cases.ExampleApplicationTestCase):
    expected_factory_topic = "shared.persistence.jetstream:Factory"

    def test_environment_names_the_module(self) -> None:
        assert os.environ["PERSISTENCE_MODULE"] == "shared.persistence.jetstream"
