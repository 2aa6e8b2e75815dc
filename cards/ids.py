"""Random (version 4) UUIDs for cards and suggestions, as text.

The same as `str(uuid.uuid4())` (16 bytes from os.urandom, version 4, RFC 4122 variant) without
building a UUID object: a response carries several.
"""

from __future__ import annotations

import os


def random_uuid() -> str:
    """A random UUID ("1b4e28ba-2fa1-41d2-883f-0016d3cca427" form)."""
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40  # version 4
    b[8] = (b[8] & 0x3F) | 0x80  # variant RFC 4122
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
