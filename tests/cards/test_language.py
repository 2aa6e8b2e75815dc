"""Accept-Language -> one of the four catalogue languages, else the deployment default."""

from __future__ import annotations

import pytest

from cards.language import choose_language, match_language


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ja-JP,ja;q=0.9,en;q=0.8", "ja"),
        ("zh-TW", "zh-TW"),
        ("zh-Hant", "zh-TW"),
        ("zh-Hant-CN", "zh-TW"),  # script wins over region
        ("zh-HK", "zh-TW"),
        ("zh-MO", "zh-TW"),
        ("zh-Hans-TW", "zh-CN"),
        ("zh-SG", "zh-CN"),
        ("zh", "zh-CN"),
        ("zh-CN,zh;q=0.9", "zh-CN"),
        ("en-GB", "en"),
        ("fr-FR, ja;q=0.5", "ja"),  # first acceptable by q, unknown languages skipped
        ("en;q=0.2, zh-tw;q=0.8", "zh-TW"),  # higher q wins, case-insensitive
        ("ja;q=0, en", "en"),  # q=0 means "not this"
        ("de, fr", "zh-TW"),  # nothing matches: deployment default
        ("*", "zh-TW"),
        ("", "zh-TW"),
        (None, "zh-TW"),
        ("ja;q=abc, en", "en"),  # a broken q counts as 0
    ],
)
def test_best_match_else_default(header: str | None, expected: str) -> None:
    assert choose_language(header, "zh-TW") == expected


def test_default_outside_catalogue_falls_back_to_english() -> None:
    assert choose_language("de", "fr") == "en"


def test_unknown_tags() -> None:
    assert match_language("ko-KR") is None
    assert match_language("") is None
