"""Root fixtures: the real servers the integration tests talk to (../shared/TESTING.md).

Session fixtures (one server each per test session, started on first use, stopped at the end):

``fhir_server`` -> tests.fixtures.hapi.FhirServer
    HAPI FHIR JPA server, R4, H2 in memory, built from tests/hapi and started with
    ``java -jar`` on a free loopback port. Attributes and methods:
    ``base_url`` (``http://127.0.0.1:PORT/fhir``), ``load(bundle: dict)`` (POSTs the Bundle as a
    transaction of PUTs with stable ids, so loading twice changes nothing; returns the
    ``requests.Response``, raises ``FhirServerError`` when rejected), ``load_file(path)``,
    ``get(path_or_url, params)`` (no-cache GET), ``search_all(type, params) -> (total,
    entries, pages)`` (follows ``next`` links), ``session`` (a requests.Session),
    ``log_path``, ``started_in_s``. Loading order: a chart's conditional references to
    resources defined in another Bundle resolve to them if that Bundle was loaded first,
    otherwise to placeholders that a later load of that Bundle fills in.
    Search paging: 20 per page by default, ``_count`` up to 300, ``next`` links as
    ``?_getpages=...``. Searches are never answered from HAPI's search cache. Conditional
    references (``Practitioner?identifier=...``) that match nothing become placeholder
    resources carrying that identifier.

``browser`` -> playwright Browser
    Debian's chromium driven by Playwright (tests/fixtures/browser.py), headless, one per
    session; without chromium or playwright skipped, under ``CI=true`` failed.

``postgres_server`` -> tests.fixtures.postgres.PostgresServer
    A throw-away PostgreSQL cluster (Debian's postgresql package) on a free loopback port:
    ``url``, ``port``, ``create_database(name) -> url``, ``log_path``.

``postgres_url`` -> str
    SQLAlchemy URL of the empty database ``rheum_cds_test`` on that cluster
    (``postgresql+psycopg://postgres@127.0.0.1:PORT/rheum_cds_test``).

Tests using any of these are marked ``integration`` automatically. Without Java/Maven or
PostgreSQL they are skipped with a message naming what to install; under ``CI=true`` they
fail instead. When such a test fails, the tail of the server's log is added to its report.
Server logs live under pytest's temporary directory (``hapi0/hapi.log``,
``postgres0/postgres.log``); start-up times are printed in the terminal summary.
Environment: ``RHEUM_CDS_TEST_FHIR_BASE`` (use an already running FHIR server instead),
``RHEUM_CDS_TEST_HAPI_HEAP`` (default ``2g``), ``RHEUM_CDS_TEST_HAPI_JAVA_OPTS``.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Generator, Iterator

import pytest

from tests.fixtures.browser import browser  # noqa: F401  (one chromium per session)
from tests.fixtures.hapi import FhirServer, FhirServerError, missing_tools, start_fhir_server
from tests.fixtures.postgres import PostgresError, PostgresServer, find_bin_dir, start_postgres
from tests.fixtures.processes import log_tail, unavailable

SERVER_FIXTURES = {
    "fhir_server": "fhir",
    "terminology_server": "terminology",
    "postgres_server": "postgres",
    "postgres_url": "postgres",
}
_active_logs: dict[str, tuple[str, object]] = {}
_startup_timings: dict[str, float] = {}


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config: pytest.Config) -> None:
    # A SIGTERM (CI timeout, `kill`) unwinds like Ctrl-C, so fixtures stop their servers.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVER_FIXTURES.keys() & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _startup_timings:
        terminalreporter.section("test servers")
        for name, seconds in _startup_timings.items():
            terminalreporter.write_line(f"{name}: {seconds:.1f} s")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if not report.failed:
        return
    used = {
        SERVER_FIXTURES[name]
        for name in getattr(item, "fixturenames", ())
        if name in SERVER_FIXTURES
    }
    for kind in sorted(used):
        if kind in _active_logs:
            title, server = _active_logs[kind]
            path = getattr(server, "log_path", None)
            if path is not None:
                report.sections.append((f"{title} (last lines of {path})", log_tail(path, 80)))


@pytest.fixture(scope="session")
def fhir_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirServer]:
    """The HAPI FHIR test server (see the module docstring)."""
    missing = missing_tools()
    if missing:
        unavailable(
            f"HAPI FHIR test server needs {' and '.join(missing)} on PATH: install a JDK 17 and "
            "Maven (Debian: apt-get install openjdk-17-jdk-headless maven)"
        )
    started = time.monotonic()
    try:
        server = start_fhir_server(tmp_path_factory.mktemp("hapi"))
    except FhirServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    _startup_timings["HAPI FHIR server: build check + start"] = time.monotonic() - started
    if server.started_in_s is not None:
        _startup_timings["HAPI FHIR server: java -jar until /fhir/metadata answers"] = (
            server.started_in_s
        )
    _active_logs["fhir"] = ("HAPI FHIR server log", server)
    try:
        yield server
    finally:
        _active_logs.pop("fhir", None)
        server.stop()


@pytest.fixture(scope="session")
def terminology_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FhirServer]:
    """A second HAPI FHIR server started as a terminology server (`--rheumcds.terminology=true`:
    ValueSet/$expand with Hibernate Search on a local-heap Lucene index), empty. Its own
    instance, so the FHIR data tests keep a server without the index. tests/terminology loads
    a SNOMED CT-shaped CodeSystem into it."""
    missing = missing_tools()
    if missing:
        unavailable(
            f"HAPI terminology server needs {' and '.join(missing)} on PATH: install a JDK 17 "
            "and Maven (Debian: apt-get install openjdk-17-jdk-headless maven)"
        )
    started = time.monotonic()
    try:
        server = start_fhir_server(
            tmp_path_factory.mktemp("hapi-terminology"),
            extra_args=["--rheumcds.terminology=true"],
            heap="1g",
            use_external=False,
        )
    except FhirServerError as exc:
        pytest.fail(str(exc), pytrace=False)
    _startup_timings["HAPI terminology server: build check + start"] = time.monotonic() - started
    _active_logs["terminology"] = ("HAPI terminology server log", server)
    try:
        yield server
    finally:
        _active_logs.pop("terminology", None)
        server.stop()


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A throw-away PostgreSQL cluster (see the module docstring)."""
    if find_bin_dir() is None:
        unavailable(
            "PostgreSQL tests need initdb and postgres (Debian: apt-get install postgresql)"
        )
    started = time.monotonic()
    try:
        server = start_postgres(tmp_path_factory.mktemp("postgres"))
    except PostgresError as exc:
        pytest.fail(str(exc), pytrace=False)
    _startup_timings["PostgreSQL: initdb + start"] = time.monotonic() - started
    _active_logs["postgres"] = ("PostgreSQL log", server)
    try:
        yield server
    finally:
        _active_logs.pop("postgres", None)
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """SQLAlchemy URL of an empty database on the session's PostgreSQL cluster."""
    return postgres_server.url
