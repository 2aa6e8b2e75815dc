"""The card catalogue and renderer (stage 6): texts per language in templates/, data only.

from cards import render_cards, choose_language
"""

from cards.language import LANGUAGES, choose_language
from cards.render import render_cards

__all__ = ["LANGUAGES", "choose_language", "render_cards"]
