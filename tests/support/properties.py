"""Hypothesis strategies and settings shared by the property tests.

Two hypothesis profiles are registered in tests/conftest.py: `full` (hypothesis' own 100 examples
a property; the default, and what `make test` runs) and `unit` (20; `make unit` passes
`--hypothesis-profile=unit`). A property that asks for its own number of examples asks through
`examples(n)`: n under `full`, proportionally fewer under `unit`, never fewer than 5 (or n).
Every property runs under both.

The settings below are made when this module is imported, so it must be imported by test
modules only (at collection, after the profile is loaded), never by a conftest.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FULL_EXAMPLES = 100  # the `full` profile's max_examples (hypothesis' default)
FLOOR = 5


def examples(n: int) -> int:
    """`n` examples under the full profile, scaled to the profile loaded now."""
    scaled = round(n * settings.default.max_examples / FULL_EXAMPLES)
    return max(min(n, FLOOR), scaled)


# No example database on disk (nothing to ignore in git), no deadline (CI machines are slow:
# a property must fail because it is false, never because a run was slow).
FAST = settings(max_examples=examples(50), deadline=None, database=None)
SOME = settings(max_examples=examples(20), deadline=None, database=None)
FEW = settings(
    max_examples=examples(12),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

LONG_TEXTS = [
    "a" * 20000,
    "\u202e" * 20000,
    "1 " * 10000,
    "\U0001f600" * 20000,
    "a@" + "a." * 10000 + "com",
    "1" * 20000 + "a",
    ("x" * 63 + ".") * 300,
]

# -- e-mail -----------------------------------------------------------------------------------

ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-"
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@st.composite
def email_addresses(draw) -> str:
    atoms = draw(st.lists(st.text(alphabet=ATEXT, min_size=1, max_size=12), min_size=1, max_size=4))
    local = ".".join(atoms)[:64].rstrip(".")
    labels = draw(
        st.lists(
            st.builds(
                lambda first, middle, last: first + middle + last,
                st.sampled_from(ALNUM),
                st.text(alphabet=ALNUM + "-", max_size=10),
                st.sampled_from(ALNUM),
            )
            | st.sampled_from(ALNUM),
            min_size=1,
            max_size=3,
        )
    )
    tld = draw(
        st.text(
            alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=8
        )
    )
    return f"{local}@{'.'.join(labels)}.{tld}"


# -- phone ------------------------------------------------------------------------------------


@st.composite
def phone_numbers(draw) -> tuple:
    """A phone number as people type it, and the digits it stands for."""
    digits = draw(st.text(alphabet="0123456789", min_size=7, max_size=15))
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=4)))
    groups = [digits[a:b] for a, b in zip([0] + cuts, cuts + [len(digits)], strict=True)]
    if len(groups) > 1 and draw(st.booleans()):
        index = draw(st.integers(0, len(groups) - 2))
        groups[index] = f"({groups[index]})"
    typed = groups[0]
    for group in groups[1:]:
        typed += draw(st.sampled_from(["", " ", "-", ".", " - ", "  "])) + group
    plus = draw(st.booleans())
    return ("+" if plus else "") + typed, ("+" if plus else "") + digits
