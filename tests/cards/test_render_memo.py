"""The score part of a disease-activity card is made once per Score objects and language
(compute_scores gives the same objects for the same results): every answer still reads as if
made anew, in its own language, and scores made anew get their own lines."""

from __future__ import annotations

from dataclasses import replace

from cards import render
from cards.language import LANGUAGES
from cards.render import render_cards
from tests.cards import samples

DOCS = "https://docs.example.org/rheum-cds/"


def _activity_detail(assessment, language: str, knowledge) -> str:
    cards = render_cards(assessment, language, knowledge, DOCS, "order-sign")
    (activity,) = [c for c in cards if c["extension"]["org.rheum-cds"]["scores"]]
    return activity["detail"]


def test_each_language_gets_its_own_score_lines_for_the_same_scores(knowledge):
    assessment = samples.elderly_smoker()
    kept = {lang: _activity_detail(assessment, lang, knowledge) for lang in LANGUAGES}
    again = {lang: _activity_detail(assessment, lang, knowledge) for lang in LANGUAGES}
    fresh = {}
    for lang in LANGUAGES:  # each made with nothing kept
        render._SCORE_PARTS.clear()
        fresh[lang] = _activity_detail(assessment, lang, knowledge)
    assert kept == again == fresh
    assert len(set(fresh.values())) == len(LANGUAGES)


def test_scores_made_anew_get_their_own_lines(knowledge):
    assessment = samples.elderly_smoker()
    before = _activity_detail(assessment, "en", knowledge)
    newer = [replace(samples.DAS[0], value=6.17, category="high"), *samples.DAS[1:]]
    after = _activity_detail(replace(assessment, scores=newer), "en", knowledge)
    assert "DAS28-ESR 5.42" in before and "DAS28-ESR 6.17" in after
    assert "5.42" not in after


def test_the_parts_kept_are_bounded(knowledge):
    assessment = samples.elderly_smoker()
    for n in range(render.SCORE_PARTS_KEPT + 10):
        scores = [replace(s, value=float(n)) for s in samples.DAS]
        _activity_detail(replace(assessment, scores=scores), "en", knowledge)
    assert len(render._SCORE_PARTS) <= render.SCORE_PARTS_KEPT
