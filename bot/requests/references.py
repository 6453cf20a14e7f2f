"""Request reference codes: `DEL-7K3M9Q`, a type prefix and six unambiguous characters.

The alphabet drops I, L, O and U, which are read as 1, 1, 0 and V over the phone; codes are
random (not sequential) so one reference says nothing about how many others exist. The shape
(prefix length, alphabet, code length) is bot.core.reference_shape's, which log and free-text
masking read too.
"""

from __future__ import annotations

import re
import secrets
from typing import Dict, Optional

from bot.core.reference_shape import CODE_LENGTH, PREFIX_LENGTH, REFERENCE_ALPHABET
from bot.requests.registry import BY_PREFIX, KINDS

__all__ = [
    "CODE_LENGTH",
    "PREFIXES",
    "REFERENCE_ALPHABET",
    "REFERENCE_PATTERN",
    "kind_of",
    "new_reference",
    "normalise_reference",
]

# kind -> prefix, from the registry (the spaCy pipeline builds its patterns from it).
PREFIXES: Dict[str, str] = {record.kind: record.prefix for record in KINDS}
REFERENCE_PATTERN = re.compile(
    rf"^({'|'.join(PREFIXES.values())})-([{REFERENCE_ALPHABET}]{{{CODE_LENGTH}}})$"
)
# Read-alikes a visitor may type for the dropped letters.
_READ_ALIKES = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})


def new_reference(kind: str) -> str:
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{PREFIXES[kind]}-{code}"


def normalise_reference(text: str) -> Optional[str]:
    """A typed reference in canonical form, or None: `del 7k3m9q` -> `DEL-7K3M9Q`."""
    compact = re.sub(r"[\s_\-–—]+", "", text.strip().upper())
    if len(compact) != PREFIX_LENGTH + CODE_LENGTH:
        return None
    prefix, code = compact[:PREFIX_LENGTH], compact[PREFIX_LENGTH:].translate(_READ_ALIKES)
    candidate = f"{prefix}-{code}"
    return candidate if REFERENCE_PATTERN.match(candidate) else None


def kind_of(reference: str) -> str:
    prefix = reference.split("-", 1)[0]
    if prefix not in BY_PREFIX:
        raise ValueError(f"not a reference prefix: {prefix!r}")
    return BY_PREFIX[prefix].kind
