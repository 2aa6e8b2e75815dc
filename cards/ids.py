"""Random (version 4) UUIDs for cards and suggestions, as text.

The same as `str(uuid.uuid4())` (16 bytes from os.urandom, version 4, RFC 4122 variant) without
building a UUID object: a response carries several.
"""

from __future__ import annotations

from os import urandom

# the variant nibble (RFC 4122: 10xx) from a random hex digit, keeping its two low bits
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def random_uuid() -> str:
    """A random UUID ("1b4e28ba-2fa1-41d2-883f-0016d3cca427" form): the hex text of 16 random
    bytes with the version digit set to 4 and the variant digit's two high bits to 10."""
    h = urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"
