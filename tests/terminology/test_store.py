"""Stored terminology codes on SQLite and PostgreSQL: one refresher at a time across workers,
a refresh replaces a source's codes whole, look-ups add to theirs."""

from __future__ import annotations

from cds_service.storage import Storage
from cds_service.terminology.store import (
    NO_CONCEPT,
    CodeRow,
    TerminologyStore,
    lookup_source,
    server_source,
)

URL = "https://tx.example.org/fhir"


def test_one_refresher_at_a_time_and_whole_replacement(storage_url):
    first, second = Storage(storage_url), Storage(storage_url)  # two workers
    try:
        a, b = TerminologyStore(first.engine), TerminologyStore(second.engine)
        source = server_source(URL)
        assert a.state(source) is None
        assert a.try_lease(source, 600)
        assert not b.try_lease(source, 600)  # the other worker waits for the result
        a.replace(source, "v1", [CodeRow("dvt", "128053003"), CodeRow("dvt", "404223003")])
        state = b.state(source)
        assert state is not None and (state.version, state.codes) == ("v1", 2)
        assert b.try_lease(source, 600)  # a finished refresh frees the lease
        b.replace(source, "v2", [CodeRow("pe", "59282003")])
        assert a.codes([source]) == {"59282003": {"pe"}}
        assert a.state(source).version == "v2"
        b.release(source)

        lookups = lookup_source(URL)
        a.add(lookups, "v2", [CodeRow("dvt", "444325005"), CodeRow(NO_CONCEPT, "64156001")])
        b.add(lookups, "v2", [CodeRow("dvt", "444325005")])  # stored by another worker first
        assert a.codes([source, lookups]) == {
            "59282003": {"pe"},
            "444325005": {"dvt"},
            "64156001": {NO_CONCEPT},
        }
        assert a.state(lookups).codes == 2
    finally:
        first.dispose()
        second.dispose()
