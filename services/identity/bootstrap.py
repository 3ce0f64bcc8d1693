"""Composition root of the identity service: application, command handlers, projections."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from eventsourcing.persistence import TrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from nats.aio.client import Client as NATS

from services.identity.application import IdentityApplication
from services.identity.community_trust import CommunityTrust
from services.identity.config import IdentitySettings
from services.identity.entrypoints import build_router
from services.identity.keys import TrustAgentKeys
from services.identity.projections.contacts import ContactsProjection, ContactsView
from services.identity.projections.did_documents import DidDocumentsProjection, DidDocumentsView
from services.identity.projections.sessions import SessionsProjection, SessionsView
from shared.commands import CommandRouter
from shared.signing import SigningKey
from shared.statements import NonceRegistry

V = TypeVar("V", bound=TrackingRecorder)


@dataclass
class IdentityService:
    app: IdentityApplication
    trust: CommunityTrust
    router: CommandRouter
    contacts: ProjectionRunner[IdentityApplication, ContactsView]
    sessions: ProjectionRunner[IdentityApplication, SessionsView]
    did_documents: ProjectionRunner[IdentityApplication, DidDocumentsView]

    async def stop(self) -> None:
        await self.router.stop()
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        for runner in (self.contacts, self.sessions, self.did_documents):
            runner.__exit__(None, None, None)  # stops, joins its threads, closes its app
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
    contacts = await _run_projection(env, data_dir, ContactsProjection, ContactsView)
    sessions = await _run_projection(env, data_dir, SessionsProjection, SessionsView)
    did_documents = await _run_projection(env, data_dir, DidDocumentsProjection, DidDocumentsView)
    router = build_router(app, await NonceRegistry.open(nc), trust, contacts.view)
    await router.start(nc)
    return IdentityService(
        app=app,
        trust=trust,
        router=router,
        contacts=contacts,
        sessions=sessions,
        did_documents=did_documents,
    )


async def _run_projection(
    env: dict[str, Any], data_dir: Path, projection: type[Projection[V]], view: type[V]
) -> ProjectionRunner[IdentityApplication, V]:
    """Start a projection whose SQLite view (and tracking) lives in data_dir/<name>.sqlite."""
    prefix = projection.name.upper()
    runner: ProjectionRunner[IdentityApplication, V] = await asyncio.to_thread(
        ProjectionRunner,
        application_class=IdentityApplication,
        projection_class=projection,
        view_class=view,
        env={
            **env,
            f"{prefix}_PERSISTENCE_MODULE": "eventsourcing.sqlite",
            f"{prefix}_SQLITE_DBNAME": str(data_dir / f"{projection.name}.sqlite"),
        },
    )
    runner.__enter__()
    return runner
