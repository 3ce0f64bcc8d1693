"""Typed refusals of the messaging domain, by HTTP status."""

from __future__ import annotations

from shared.domain import DomainError


class Forbidden(DomainError):
    """The actor may not do this here (not a member, not a moderator, banned, not her post)."""

    status = 403


class Missing(DomainError):
    """The thing named does not exist, or is not visible to the actor (never a hint which)."""

    status = 404


class TooLarge(DomainError):
    status = 413


class Invalid(DomainError):
    """The request is well-formed JSON but its content breaks a rule (empty title, bad reaction)."""

    status = 422


class TooSoon(DomainError):
    """Asked again too soon (a verification mail to an address, for one)."""

    status = 429
