"""The shared catch-up: a follower keeps read models level; when it cannot apply the log, queries
do not wait for it but apply the log themselves and fail with the reason."""

from __future__ import annotations

import pytest

import shared.catchup
from shared.catchup import CatchUp
from shared.domain import Event
from tests.unit.test_domain_and_codec import Counter, Counters


class Fragile:
    """Sums bumps, and cannot apply a bump of 13."""

    def __init__(self) -> None:
        self.position = 0
        self.total = 0

    def apply(self, event: Event) -> None:
        by = getattr(event, "by", 0)
        if by == 13:
            raise ValueError("this read model cannot apply a bump of 13")
        self.total += by


@pytest.mark.timeout(60)
def test_a_query_fails_with_the_reason_instead_of_waiting_for_a_failing_follower(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shared.catchup, "WAIT_S", 3600.0)  # a query that waited would hang the test
    app = Counters(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    model = Fragile()
    catch_up = CatchUp(app, [model], name="fragile")
    catch_up.follow()
    try:
        counter = Counter.open("acme.counter.c1", "visits", now=1)
        counter.bump(2, now=2)
        app.save(counter)
        catch_up.wake()
        assert catch_up.query(lambda: model.total) == 2  # the follower applied it

        counter.bump(13, now=3)
        app.save(counter)
        catch_up.wake()
        with pytest.raises(ValueError, match="bump of 13"):
            catch_up.query(lambda: model.total)
        assert model.total == 2  # nothing half-applied
    finally:
        catch_up.stop()
        app.close()
