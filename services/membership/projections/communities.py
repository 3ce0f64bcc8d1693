"""Every community the deployment hosts, for its hosting provider: name, when it was created and by
whom, whether it is archived, how many members it has in each standing, when it last changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.membership.domain.events import CommunityArchived, CommunityConfigured, CommunityCreated
from services.membership.projections.directory import DirectoryView
from shared.clock import rfc3339
from shared.domain import Event


@dataclass
class Hosted:
    slug: str
    name: str
    did: str
    created_ns: int
    created_by: str  # the founder's did:key, or "operator"
    join_mode: str
    archived_ns: int = 0
    last_change_ns: int = 0


class CommunitiesView:
    """Fed every membership event; member counts come from the directory, which holds each status."""

    def __init__(self, directory: DirectoryView) -> None:
        self.position = 0
        self._directory = directory
        self._hosted: dict[str, Hosted] = {}

    def apply(self, event: Event) -> None:
        slug = event.originator_id.split(".", 1)[0]
        if isinstance(event, CommunityCreated):
            self._hosted[slug] = Hosted(
                slug, event.name, event.did, event.occurred_ns, event.by, event.policy.join_mode
            )
        hosted = self._hosted.get(slug)
        if hosted is None:
            return
        hosted.last_change_ns = max(hosted.last_change_ns, event.occurred_ns)
        if isinstance(event, CommunityConfigured):
            hosted.name, hosted.join_mode = event.name, event.policy.join_mode
        elif isinstance(event, CommunityArchived):
            hosted.archived_ns = event.occurred_ns

    def listing(self, *, now: int, text: str = "", include_archived: bool = False) -> list[dict[str, Any]]:
        """Communities by slug; `text` matches slug or name; archived ones only when asked."""
        needle = text.strip().lower()
        found = []
        for hosted in sorted(self._hosted.values(), key=lambda h: h.slug):
            if hosted.archived_ns and not include_archived:
                continue
            if needle and needle not in hosted.slug.lower() and needle not in hosted.name.lower():
                continue
            found.append(
                {
                    "slug": hosted.slug,
                    "name": hosted.name,
                    "did": hosted.did,
                    "join_mode": hosted.join_mode,
                    "created_at": rfc3339(hosted.created_ns),
                    "created_by": hosted.created_by,
                    "archived_at": rfc3339(hosted.archived_ns) if hosted.archived_ns else None,
                    "last_change_at": rfc3339(hosted.last_change_ns),
                    "members": self._directory.standings(hosted.slug, now),
                }
            )
        return found
