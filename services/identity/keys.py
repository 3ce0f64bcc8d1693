"""Keys of the community trust agents, derived from one agent seed so none is stored apart.

key(community, i) = Ed25519 seed HMAC-SHA256(agent seed, "cos/community-key/v1/<community>/<i>").
Key i signs the community's credentials and DID log entries while it is current; the log commits
to key i+1 in advance (did:webvh pre-rotation), so a rotation can be checked by anyone.
"""

from __future__ import annotations

import hashlib
import hmac

from shared.signing import SigningKey


class TrustAgentKeys:
    def __init__(self, agent_seed: SigningKey) -> None:
        self._seed = agent_seed.seed

    def community_key(self, community: str, index: int) -> SigningKey:
        info = f"cos/community-key/v1/{community}/{index}".encode()
        return SigningKey(hmac.new(self._seed, info, hashlib.sha256).digest())
