"""The application layer of a service: the eventsourcing library's Application with our event codec."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import Mapper
from eventsourcing.utils import EnvType

from shared.domain import Aggregate, DomainError
from shared.eventcodec import EventCodec, EventRegistry, MsgspecMapper

__all__ = ["NotFound", "ServiceApplication"]

A = TypeVar("A", bound=Aggregate)


class NotFound(DomainError):
    status = 404


class ServiceApplication(Application[str]):
    """A service's application: aggregates with string ids `<community>.<kind>.<id>`, stored as
    signed commits on the service's JetStream stream (or in memory for service tests)."""

    registry: ClassVar[EventRegistry]
    env: ClassVar[dict[str, str]] = {"PERSISTENCE_MODULE": "shared.persistence.jetstream"}

    def __init__(self, env: EnvType | None = None) -> None:
        self.codec = EventCodec(type(self).registry)
        super().__init__(env)

    def construct_mapper(self) -> Mapper[str]:
        return MsgspecMapper(
            self.codec,
            cipher=self.factory.cipher(),
            compressor=self.factory.compressor(),
        )

    def load(self, aggregate_class: type[A], aggregate_id: str) -> A:
        """The aggregate rebuilt from its events; NotFound (404) when it has none."""
        try:
            aggregate: Any = self.repository.get(aggregate_id, projector_func=aggregate_class.replay)
        except AggregateNotFoundError:
            raise NotFound("not_found", f"{aggregate_class.__name__} {aggregate_id} does not exist") from None
        if not isinstance(aggregate, aggregate_class):
            raise NotFound("not_found", f"{aggregate_id} is not a {aggregate_class.__name__}")
        return aggregate

    def exists(self, aggregate_class: type[A], aggregate_id: str) -> bool:
        try:
            self.load(aggregate_class, aggregate_id)
        except NotFound:
            return False
        return True
