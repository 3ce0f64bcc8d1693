"""Messaging service settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class MessagingSettings:
    public_base_url: str = "http://cos.localhost:8000"  # where verification links point (the gateway)
    smtp_host: str = ""  # "" = no email delivery
    smtp_port: int = 25
    smtp_sender: str = "community@cos.localhost"
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: str = ""
    identity_timeout_s: float = 10.0
    schedule_every_s: float = 1.0  # how often scheduled announcements are looked at
    verification_valid_s: int = 2 * 24 * 3600
    # The durable consumer every replica shares to mail governance's notices (one per deployment).
    notice_consumer: str = "messaging-notice-mail"
    # How long a forum post or a chat message waits before it is mailed: read in the app meanwhile,
    # it is not mailed at all (mail reaches those who are away, not those reading along).
    mail_delay_s: float = 600.0
    # The key behind every mail's unsubscribe link (32 random bytes, hex), the same file for every
    # replica (a Kubernetes secret); "" = `keys/messaging-links.seed` in the data dir, made on first use.
    link_key_file: str = ""

    @classmethod
    def from_env(cls) -> MessagingSettings:
        env = os.environ
        host = env.get("COS_PUBLIC_HOST", "cos.localhost")
        port = env.get("COS_PUBLIC_PORT", "8000")
        return cls(
            public_base_url=env.get("MESSAGING_PUBLIC_URL", f"http://{host}:{port}"),
            smtp_host=env.get("MESSAGING_SMTP_HOST", ""),
            smtp_port=int(env.get("MESSAGING_SMTP_PORT", "25")),
            smtp_sender=env.get("MESSAGING_SMTP_FROM", "community@cos.localhost"),
            smtp_starttls=env.get("MESSAGING_SMTP_STARTTLS", "") in ("1", "true", "yes"),
            smtp_username=env.get("MESSAGING_SMTP_USER", ""),
            smtp_password=env.get("MESSAGING_SMTP_PASSWORD", ""),
            identity_timeout_s=float(env.get("MESSAGING_IDENTITY_TIMEOUT", "10")),
            notice_consumer=env.get("MESSAGING_NOTICE_CONSUMER", "messaging-notice-mail"),
            mail_delay_s=_seconds(env.get("MESSAGING_MAIL_DELAY", "600"), "MESSAGING_MAIL_DELAY"),
            link_key_file=env.get("MESSAGING_LINK_KEY_FILE", ""),
        )


def _seconds(value: str, name: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{name} is a number of seconds, not {value!r}") from None
    if not 0 <= seconds <= 24 * 3600:  # notices older than two days are not mailed at all
        raise ValueError(f"{name} is between 0 and 86400 seconds (a day), not {value}")
    return seconds
