"""Messaging's settings from the environment: the mail delay is checked, with a clear error."""

from __future__ import annotations

import pytest

from services.messaging.config import MessagingSettings


def test_the_mail_delay_defaults_to_ten_minutes_and_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MESSAGING_MAIL_DELAY", raising=False)
    assert MessagingSettings.from_env().mail_delay_s == 600.0
    monkeypatch.setenv("MESSAGING_MAIL_DELAY", "0")
    assert MessagingSettings.from_env().mail_delay_s == 0.0
    monkeypatch.setenv("MESSAGING_MAIL_DELAY", "2.5")
    assert MessagingSettings.from_env().mail_delay_s == 2.5


@pytest.mark.parametrize(
    ("value", "said"),
    [("soon", "a number of seconds, not 'soon'"), ("-1", "between 0 and 86400"), ("1e9", "between 0")],
)
def test_a_mail_delay_that_is_not_a_sensible_number_of_seconds_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, value: str, said: str
) -> None:
    monkeypatch.setenv("MESSAGING_MAIL_DELAY", value)
    with pytest.raises(ValueError, match="MESSAGING_MAIL_DELAY") as refused:
        MessagingSettings.from_env()
    assert said in str(refused.value)
