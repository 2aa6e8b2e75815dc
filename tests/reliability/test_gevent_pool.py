"""The default worker's connection pool (cds_service/gevent_worker.py `ReusingPool`): a
greenlet done with a connection serves the next one, while every connection in progress
still has a greenlet of its own (a slow client holds one greenlet, never the others), the
pool's count of connections in progress stays exact under concurrency (gunicorn's graceful
shutdown and gevent's accept throttling read it), each connection starts with a fresh
context, and a pool kill ends the connections in progress. Runs on gevent's hub without
monkey-patching; bounded in time."""

from __future__ import annotations

import contextvars

import gevent
import pytest
from gevent.event import Event

from cds_service.gevent_worker import ReusingPool

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


def test_connections_one_after_another_are_served_by_one_greenlet_in_fresh_contexts() -> None:
    pool = ReusingPool(10)
    seen: list[tuple[object, str]] = []

    def connection(number: int) -> None:
        seen.append((gevent.getcurrent(), REQUEST_ID.get()))
        REQUEST_ID.set(f"request {number}")  # never reset: must not reach the next one

    for number in range(5):
        pool.spawn(connection, number)
        pool.join(timeout=5)
    assert [value for _, value in seen] == ["none"] * 5
    assert len({id(glet) for glet, _ in seen}) == 1
    assert pool.free_count() == pool.size


def test_connections_in_progress_each_hold_a_greenlet_and_a_slot() -> None:
    pool = ReusingPool(3)
    release = [Event() for _ in range(3)]
    running: list[object] = []

    def slow_client(gate: Event) -> None:
        running.append(gevent.getcurrent())
        gate.wait(5)

    for _ in range(2):  # warm: greenlets waiting to be reused
        pool.spawn(gevent.sleep, 0)
    pool.join(timeout=5)
    for gate in release:
        pool.spawn(slow_client, gate)
    gevent.sleep(0.01)
    assert len(set(map(id, running))) == 3  # served side by side, one greenlet each
    assert pool.full() and pool.free_count() == 0
    release[1].set()
    gevent.sleep(0.01)
    assert not pool.full() and pool.free_count() == 1
    quick = pool.spawn(REQUEST_ID.get)  # a new connection while two are still in progress
    gevent.sleep(0.01)
    assert pool.free_count() == 1 and quick is not None
    release[0].set()
    release[2].set()
    assert pool.join(timeout=5)
    assert pool.free_count() == pool.size
    # the count is exact: the pool takes `size` concurrent connections again, not more
    gates = [Event() for _ in range(3)]
    for gate in gates:
        pool.spawn(slow_client, gate)
    assert pool.full()
    for gate in gates:
        gate.set()
    assert pool.join(timeout=5) and pool.free_count() == pool.size


def test_a_connection_that_fails_frees_its_slot() -> None:
    pool = ReusingPool(2)

    def broken() -> None:
        raise ValueError("a handler error")

    glet = pool.spawn(broken)
    with pytest.raises(ValueError):
        glet.get(timeout=5)  # the greenlet ends with the error, as a new one would
    assert pool.join(timeout=5) and pool.free_count() == pool.size
    answers: list[str] = []
    pool.spawn(lambda: answers.append(REQUEST_ID.get()))
    assert pool.join(timeout=5) and answers == ["none"]  # the pool still serves


def test_killing_the_pool_ends_the_connections_in_progress() -> None:
    pool = ReusingPool(5)
    ended: list[str] = []

    def hanging_client() -> None:
        try:
            gevent.sleep(30)
        finally:
            ended.append("ended")

    pool.spawn(gevent.sleep, 0)
    pool.join(timeout=5)  # one greenlet now waits to be reused
    for _ in range(3):
        pool.spawn(hanging_client)
    gevent.sleep(0.01)
    pool.kill(block=True, timeout=5)
    assert ended == ["ended"] * 3
    assert pool.free_count() == pool.size and pool.join(timeout=1)


def test_at_most_max_idle_greenlets_wait_for_a_connection() -> None:
    pool = ReusingPool(20, max_idle=2)
    gates = [Event() for _ in range(6)]
    for gate in gates:
        pool.spawn(gate.wait, 5)
    gevent.sleep(0.01)
    for gate in gates:
        gate.set()
    assert pool.join(timeout=5)
    assert len(pool._idle) == 2  # the other four ended
