"""Composition root of the identity service: application, command handlers, projections."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eventsourcing.projection import ProjectionRunner
from nats.aio.client import Client as NATS

from services.identity.application import IdentityApplication
from services.identity.community_trust import CommunityTrust
from services.identity.config import IdentitySettings
from services.identity.entrypoints import build_router
from services.identity.keys import TrustAgentKeys
from services.identity.projections.contacts import ContactsProjection, ContactsView
from shared.commands import CommandRouter
from shared.signing import SigningKey
from shared.statements import NonceRegistry


@dataclass
class IdentityService:
    app: IdentityApplication
    trust: CommunityTrust
    router: CommandRouter
    contacts: ProjectionRunner[IdentityApplication, ContactsView]

    async def stop(self) -> None:
        await self.router.stop()
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        self.contacts.__exit__(None, None, None)  # stops, joins its threads, closes its app
        self.app.close()


def application_env(nats_url: str, data_dir: Path) -> dict[str, str]:
    return {
        "PERSISTENCE_MODULE": "shared.persistence.jetstream",
        "NATS_URL": nats_url,
        "NATS_STREAM": "IDENTITY",
        "NATS_SUBJECT_PREFIX": "identity",
        "NATS_SIGNING_KEY_FILE": str(data_dir / "keys" / "identity-instance.seed"),
    }


async def start_identity(
    nc: NATS, nats_url: str, data_dir: Path, settings: IdentitySettings | None = None
) -> IdentityService:
    settings = settings or IdentitySettings.from_env()
    env: dict[str, Any] = application_env(nats_url, data_dir)
    key_path = Path(settings.token_key_file or data_dir / "keys" / "identity-token.seed")
    token_key = await asyncio.to_thread(SigningKey.load_or_create, key_path)
    app = await asyncio.to_thread(lambda: IdentityApplication(env=env).configure(settings, token_key))
    agent_seed = await asyncio.to_thread(SigningKey.load_or_create, data_dir / "keys" / "trust-agent.seed")
    trust = CommunityTrust(app, TrustAgentKeys(agent_seed))
    router = build_router(app, await NonceRegistry.open(nc), trust)
    await router.start(nc)
    contacts = await asyncio.to_thread(
        ProjectionRunner,
        application_class=IdentityApplication,
        projection_class=ContactsProjection,
        view_class=ContactsView,
        env={
            **env,
            "IDENTITY_CONTACTS_PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "IDENTITY_CONTACTS_SQLITE_DBNAME": str(data_dir / "identity-contacts.sqlite"),
        },
    )
    contacts.__enter__()
    return IdentityService(app=app, trust=trust, router=router, contacts=contacts)
