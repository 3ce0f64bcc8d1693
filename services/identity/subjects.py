"""Subjects of the IDENTITY stream: events per aggregate, commands as request/reply."""

from __future__ import annotations

from shared.subjects import StreamSubjects

SUBJECTS = StreamSubjects.for_service("identity")
COMMANDS = "identity.cmd"
