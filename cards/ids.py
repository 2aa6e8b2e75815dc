"""Random (version 4) UUIDs for cards and suggestions, as text.

The same as `str(uuid.uuid4())` (16 bytes from os.urandom, version 4, RFC 4122 variant) without
building a UUID object: a response carries several. `UuidDraw` gives one response's ids from
one os.urandom call (one system call, not one per card and suggestion).
"""

from __future__ import annotations

from os import urandom

# the variant nibble (RFC 4122: 10xx) from a random hex digit, keeping its two low bits
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
BATCH = 8  # ids drawn at once by a UuidDraw (a 600-resource order-sign's answer has about 7)


def _uuid_text(h: str) -> str:
    """The UUID text of 32 random hex digits: version digit 4, variant digit's high bits 10."""
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


def random_uuid() -> str:
    """A random UUID ("1b4e28ba-2fa1-41d2-883f-0016d3cca427" form): the hex text of 16 random
    bytes with the version digit set to 4 and the variant digit's two high bits to 10."""
    return _uuid_text(urandom(16).hex())


class UuidDraw:
    """`random_uuid` for the ids of one response: the random bytes of `BATCH` ids drawn at
    once, each id made of its own 16 bytes (never reused: made per response, not shared
    between processes or requests)."""

    __slots__ = ("_hex", "_at")

    def __init__(self) -> None:
        self._hex = ""
        self._at = 0

    def __call__(self) -> str:
        at = self._at
        if at >= len(self._hex):
            self._hex = urandom(16 * BATCH).hex()
            at = 0
        self._at = at + 32
        return _uuid_text(self._hex[at : at + 32])
