"""Whole-call budget (issue 12, finding 10): a call with more draft orders or prefetched
resources than the engine can read inside the deadline is answered 413 at once, naming the
member, instead of taking seconds of CPU."""

from __future__ import annotations

import copy
from collections.abc import Callable

from flask import Flask

from tests.service import samples

HOOK_PATH = "/cds-services/rheum-order-sign"


def _orders(n: int) -> list[dict]:
    return [dict(copy.deepcopy(samples.TOFACITINIB), id=f"draft-{i}") for i in range(n)]


def test_too_many_draft_orders_is_a_413(make_app: Callable[..., Flask]) -> None:
    app = make_app(allow_unsigned=True, max_draft_orders=100)
    client = app.test_client()
    over = client.post(
        HOOK_PATH, json=samples.order_sign(*_orders(101), prefetch=samples.full_prefetch())
    )
    assert over.status_code == 413
    issue = over.get_json()["issue"][0]
    assert issue["expression"] == ["context.draftOrders"]
    assert "100" in issue["diagnostics"]
    within = client.post(
        HOOK_PATH, json=samples.order_sign(*_orders(100), prefetch=samples.full_prefetch())
    )
    assert within.status_code == 200
    assert within.get_json()["cards"]


def test_too_many_prefetched_resources_is_a_413(make_app: Callable[..., Flask]) -> None:
    app = make_app(allow_unsigned=True, max_resources=1000)
    prefetch = samples.full_prefetch()
    crp = prefetch["observations"]["entry"][0]
    prefetch["observations"]["entry"] = [
        {"resource": dict(copy.deepcopy(crp["resource"]), id=f"o-{i}")} for i in range(1001)
    ]
    response = app.test_client().post(HOOK_PATH, json=samples.order_sign(prefetch=prefetch))
    assert response.status_code == 413
    assert response.get_json()["issue"][0]["expression"] == ["prefetch"]


def test_the_defaults_bound_a_call() -> None:
    from cds_service.config import Config

    config = Config()
    assert config.max_draft_orders <= 100
    assert config.max_resources <= 10000
