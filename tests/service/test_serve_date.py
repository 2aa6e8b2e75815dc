"""The Date header gunicorn writes on every response is made once per second (serve.py), with
the same text gunicorn's own function gives for that second."""

from __future__ import annotations

import email.utils
import time

import pytest
from gunicorn import util

from cds_service.commands import serve


def _now_text() -> tuple[int, str]:
    now = time.time()
    return int(now), email.utils.formatdate(now, localtime=False, usegmt=True)


def test_the_date_text_is_gunicorns_for_the_current_second() -> None:
    date = serve.per_second(util.http_date)
    for _ in range(5):  # a second may tick between the two readings: read again
        before, text = _now_text()
        made = date()
        after, _ = _now_text()
        if before == after:
            assert made == text
            break
    else:
        pytest.fail("the clock ticked on every try")
    assert date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"  # a given time is formatted as asked


def test_the_date_is_formatted_once_a_second() -> None:
    calls: list[float] = []

    def counted(timestamp: float | None = None) -> str:
        calls.append(timestamp if timestamp is not None else time.time())
        return util.http_date(timestamp)

    date = serve.per_second(counted)
    started = time.time()
    texts = {date() for _ in range(1000)}
    seconds = int(time.time()) - int(started) + 1
    assert len(calls) <= seconds and len(texts) <= seconds


def test_serve_installs_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    original = util.http_date
    monkeypatch.setattr(util, "http_date", original)  # restored after the test
    serve._date_once_a_second()
    installed = util.http_date
    assert installed is not original and installed.per_second  # type: ignore[attr-defined]
    serve._date_once_a_second()
    assert util.http_date is installed
