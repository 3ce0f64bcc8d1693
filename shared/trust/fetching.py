"""How the trust layer reads remote documents: an injected `url -> bytes` callable, never its own I/O.

did:webvh logs and status-list credentials live at URLs. The pure code asks a `Fetcher` for them,
so the gateway can answer from its own store, the CLI can read files or the network, and tests
can serve fixed bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

__all__ = ["FetchError", "Fetcher", "mapping_fetcher"]

Fetcher = Callable[[str], bytes]


class FetchError(Exception):
    """A URL could not be read: absent, refused, too large or unreachable."""


def mapping_fetcher(documents: Mapping[str, bytes]) -> Fetcher:
    """A fetcher that serves exactly the given URLs and fails (FetchError) for any other."""
    served = dict(documents)

    def fetch(url: str) -> bytes:
        try:
            return served[url]
        except KeyError:
            raise FetchError(f"nothing is served at {url}") from None

    return fetch
