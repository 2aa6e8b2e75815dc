"""Codes learnt from a site's terminology count for their concepts with the implied broader
ones, except where the reviewed expansion decided a code is a look-alike of that concept."""

from __future__ import annotations

from cds_service.terminology.service import learnt_concepts, reviewed_exclusions
from cds_service.terminology.store import NO_CONCEPT


def test_concepts_with_implied_ones(knowledge):
    vs = knowledge.vs
    learnt = learnt_concepts({"1000001": {"lymphoma"}, "1000002": {NO_CONCEPT}}, vs)
    assert {"lymphoma", "malignancy"} <= learnt[("snomed", "1000001")]
    assert learnt[("snomed", "1000002")] == frozenset()  # known to be under no root
    assert ("snomed", "1000003") not in learnt_concepts({"1000003": {"no-such-concept"}}, vs)


def test_reviewed_look_alikes_stay_out(knowledge):
    excluded = reviewed_exclusions()
    assert excluded, "the reviewed expansion lists its exclusions"
    concept, code = sorted(excluded)[0]
    learnt = learnt_concepts({code: {concept}}, knowledge.vs, excluded)
    assert concept not in learnt[("snomed", code)]
    assert learnt[("snomed", code)] == frozenset()  # a server said only that: it is no concept
