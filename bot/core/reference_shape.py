"""What a request reference looks like: `DEL-7K3M9Q`, three capital letters, a dash, and six
characters of an alphabet without the letters read as digits.

Defined here, below everything that uses it: bot.requests.references makes references of this
shape (with the prefixes of the registry's kinds) and bot.core.masking masks anything of it in
visitors' text, whatever the prefix, so that neither needs the other.
"""

from __future__ import annotations

import re

# 0-9 and A-Z without I, L, O, U, which are read as 1, 1, 0 and V over the phone.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX_LENGTH = 3
CODE_LENGTH = 6
# A kind's prefix: three capital letters.
PREFIX_SHAPE = re.compile(rf"[A-Z]{{{PREFIX_LENGTH}}}")
# A reference as it is made: `DEL-7K3M9Q`, any prefix.
REFERENCE_SHAPE = re.compile(rf"[A-Z]{{{PREFIX_LENGTH}}}-[{REFERENCE_ALPHABET}]{{{CODE_LENGTH}}}")
