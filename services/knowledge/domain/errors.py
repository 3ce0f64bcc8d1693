"""Typed refusals of the knowledge service: a stable `code`, a message for a person, an HTTP status."""

from __future__ import annotations

from shared.domain import DomainError


class InvalidRequest(DomainError):
    status = 422


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class TooLarge(DomainError):
    status = 413


class UnsupportedMedia(DomainError):
    status = 415


class Unavailable(DomainError):
    status = 503
