"""One router per resource: every module here with a module-level `router` is mounted by the app.

Modules are mounted in the order of their `ORDER` (default 100), then by name, so that the
health and trust routes come first in the OpenAPI document and new modules need no wiring.
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter


def discover_routers() -> list[APIRouter]:
    found: list[tuple[int, str, APIRouter]] = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            found.append((int(getattr(module, "ORDER", 100)), info.name, router))
    return [router for _, _, router in sorted(found, key=lambda item: item[:2])]
