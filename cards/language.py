"""Choose the card language: deployment default, or the best match of `Accept-Language`.

The catalogue has four languages: English, Traditional Chinese (Taiwan), Simplified Chinese
(mainland China) and Japanese. Chinese tags are matched by script first (Hant / Hans), then by
region (TW, HK, MO -> Traditional; CN, SG -> Simplified); a bare `zh` means Simplified.
"""

from __future__ import annotations

LANGUAGES: tuple[str, ...] = ("en", "zh-TW", "zh-CN", "ja")

_TRADITIONAL_REGIONS = frozenset({"tw", "hk", "mo"})
_SIMPLIFIED_REGIONS = frozenset({"cn", "sg", "my"})


def match_language(tag: str) -> str | None:
    """Map one BCP 47 tag to a catalogue language, or None when none fits.

    >>> match_language("zh-Hant-HK"), match_language("ja-JP"), match_language("fr")
    ('zh-TW', 'ja', None)
    """
    parts = [p.lower() for p in tag.strip().replace("_", "-").split("-") if p]
    if not parts:
        return None
    primary, rest = parts[0], parts[1:]
    if primary == "en":
        return "en"
    if primary == "ja":
        return "ja"
    if primary == "zh":
        if "hant" in rest:
            return "zh-TW"
        if "hans" in rest:
            return "zh-CN"
        if any(p in _TRADITIONAL_REGIONS for p in rest):
            return "zh-TW"
        return "zh-CN"
    return None


def _weighted(header: str) -> list[tuple[float, int, str]]:
    out: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")):
        fields = item.strip().split(";")
        tag = fields[0].strip()
        if not tag:
            continue
        quality = 1.0
        for param in fields[1:]:
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            out.append((quality, position, tag))
    out.sort(key=lambda t: (-t[0], t[1]))
    return out


def choose_language(accept_language: str | None, default: str = "en") -> str:
    """Best catalogue language for an `Accept-Language` header value, else `default`.

    Follows RFC 9110 §12.5.4: higher q first, then the order given; q=0 means "not this";
    `*` accepts the default. A default outside the catalogue falls back to English.
    """
    fallback = default if default in LANGUAGES else "en"
    if not accept_language:
        return fallback
    for _quality, _position, tag in _weighted(accept_language[:1000]):
        if tag == "*":
            return fallback
        matched = match_language(tag)
        if matched:
            return matched
    return fallback
