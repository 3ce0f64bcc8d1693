"""Subjects of the SOCIAL stream: events per aggregate, commands as request/reply."""

from __future__ import annotations

from shared.subjects import StreamSubjects

SUBJECTS = StreamSubjects.for_service("social")
COMMANDS = "social.cmd"
