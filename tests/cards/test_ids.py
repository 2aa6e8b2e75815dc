"""Card and suggestion ids: random version-4 UUIDs in canonical text form, as str(uuid4())."""

from __future__ import annotations

import uuid

from cards.ids import BATCH, UuidDraw, random_uuid


def test_random_uuid_is_a_canonical_version_4_uuid_never_repeated():
    made = [random_uuid() for _ in range(2000)]
    for text in made:
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == text  # lower-case, dashed: the form str(uuid.uuid4()) gives
    assert len(set(made)) == len(made)
    # every random bit varies (not, e.g., a counter or a fixed prefix)
    fixed = {i for i in range(36) if len({t[i] for t in made}) == 1}
    assert fixed == {8, 13, 14, 18, 23}  # the dashes and the version digit "4"


def test_one_responses_ids_are_canonical_distinct_and_fresh_beyond_one_batch():
    """A response draws its ids together (UuidDraw): each one a canonical version-4 UUID of
    its own random bytes, none repeated within the response (past one batch of os.urandom
    too) nor in the next response."""
    draws = [UuidDraw() for _ in range(300)]
    made = [draw() for draw in draws for _ in range(BATCH * 2 + 3)]
    for text in made:
        parsed = uuid.UUID(text)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == text
    assert len(set(made)) == len(made)
    fixed = {i for i in range(36) if len({t[i] for t in made}) == 1}
    assert fixed == {8, 13, 14, 18, 23}
