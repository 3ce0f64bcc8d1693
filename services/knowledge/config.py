"""Knowledge service settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class KnowledgeSettings:
    max_upload_bytes: int = 180_000  # the raw file; base64 of it must fit a 256 KiB NATS command
    max_text_chars: int = 400_000  # extracted text kept per document
    max_question_chars: int = 2_000
    llm_url: str = ""  # an OpenAI-compatible endpoint (llama.cpp server, vLLM, Ollama); empty: none
    llm_model: str = ""
    llm_timeout_s: float = 60.0
    communities: tuple[str, ...] = ()  # index only these communities (empty: every community)
    membership_timeout_s: float = 5.0
    # How long an upload waits for its own commit to be searchable: well inside the gateway's 10 s
    # for a command, so a slow index answers `searchable: false` rather than a timeout.
    index_wait_s: float = 5.0

    @classmethod
    def from_env(cls) -> KnowledgeSettings:
        env = os.environ
        communities = tuple(c for c in env.get("COS_KNOW_COMMUNITIES", "").split(",") if c.strip())
        return cls(
            max_upload_bytes=int(env.get("COS_KNOW_MAX_UPLOAD", "180000")),
            llm_url=env.get("COS_LLM_URL", ""),
            llm_model=env.get("COS_LLM_MODEL", ""),
            llm_timeout_s=float(env.get("COS_LLM_TIMEOUT", "60")),
            communities=communities,
        )
