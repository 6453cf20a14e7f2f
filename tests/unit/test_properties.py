"""Property-based tests (hypothesis) for the validators and parsers.

Each property is stated for every input of a generated family, not for a handful of examples:
what a validator accepts, the form it stores, that anything else is refused with `Invalid` (and
never with another exception), and that the policy parser neither loses nor invents text.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import yaml
from hypothesis import assume, example, given
from hypothesis import strategies as st
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from bot.conversation import flows
from bot.core.masking import mask_email, mask_pii
from bot.core.paths import POLICY_TEXT, SECTION_MAP
from bot.policy.document import (
    PolicyFormatError,
    normalise_paragraph,
    parse_policy,
    split_sentences,
)
from bot.requests import validators, verification
from bot.requests.references import (
    CODE_LENGTH,
    PREFIXES,
    REFERENCE_ALPHABET,
    REFERENCE_PATTERN,
    kind_of,
    new_reference,
)
from bot.requests.validators import Invalid
from bot.storage.models import Base, OutboxMessage, VerificationCode
from tests.support.properties import (
    ATEXT,
    FAST,
    FEW,
    LONG_TEXTS,
    SOME,
    email_addresses,
    phone_numbers,
)

# Text that tries hard: controls, bidi overrides, emoji, combining marks, full-width forms.
NASTY = st.sampled_from(
    [
        "\u202e",
        "\u202d",
        "\u200b",
        "\u200f",
        "\ufeff",
        "\x00",
        "\x1b",
        "\r",
        "\n",
        "\t",
        "\u3000",
        "\u00a0",
        "\U0001f600",
        "\u0301",
        "\uff10",
        "\uff21",
        "@",
        "<",
        ">",
        ".",
        "-",
        "+",
    ]
)
ANY_TEXT = st.one_of(st.text(), st.text(alphabet=st.one_of(NASTY, st.characters()), max_size=60))
WHITESPACE = st.text(alphabet=" \t\n\r\u3000\u00a0", max_size=3)


def _with_long_examples(**fixed):
    """Every long text as an explicit example for the `text` argument."""

    def decorate(test):
        for text in LONG_TEXTS:
            test = example(text=text, **fixed)(test)
        return test

    return decorate


# -- e-mail -----------------------------------------------------------------------------------


@FAST
@given(email_addresses(), WHITESPACE, WHITESPACE, st.booleans())
def test_email_accepts_valid_addresses_lower_cased_and_idempotently(address, before, after, angled):
    typed = f"{before}<{address}>{after}" if angled else f"{before}{address}{after}"
    stored = validators.email(typed)
    assert stored == address.lower()
    assert validators.email(stored) == stored
    assert validators.email(address.upper()) == stored


@FAST
@given(email_addresses(), st.data())
def test_email_with_a_space_or_a_second_at_inside_is_refused(address, data):
    position = data.draw(st.integers(1, len(address) - 1))
    intruder = data.draw(st.sampled_from([" ", "@", ",", "\u202e", "\U0001f600", ".."]))
    broken = address[:position] + intruder + address[position:]
    assume(intruder != ".." or broken.count("..") == 1)
    with pytest.raises(Invalid):
        validators.email(broken)


@FAST
@_with_long_examples()
@example("\u202ejane@example.com")
@example("jane@example.com\u202e")
@given(
    st.one_of(ANY_TEXT, st.builds(lambda a, b, c: a + b + c, ANY_TEXT, email_addresses(), ANY_TEXT))
)
def test_email_on_any_text_is_a_well_formed_address_or_invalid(text):
    try:
        stored = validators.email(text)
    except Invalid as error:
        assert str(error)[0].isupper()
        return
    assert stored == stored.lower() and stored.isascii()
    local, _, domain = stored.partition("@")
    assert "@" not in domain and 1 <= len(local) <= 64 and len(stored) <= 254
    assert not any(c.isspace() for c in stored)
    assert ".." not in stored and not local.startswith(".") and not local.endswith(".")
    assert "." in domain and domain.rsplit(".", 1)[1].isalpha()
    assert stored in text.lower()  # cut from what was typed, nothing added
    assert validators.email(stored) == stored


# -- phone ------------------------------------------------------------------------------------

FULL_WIDTH = str.maketrans(
    "0123456789+", "\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff0b"
)


@FAST
@given(phone_numbers(), WHITESPACE, WHITESPACE)
def test_phone_keeps_the_plus_and_the_digits(number, before, after):
    typed, stored = number
    assert validators.phone(f"{before}{typed}{after}") == stored
    assert validators.phone(typed.translate(FULL_WIDTH)) == stored
    assert validators.phone(stored) == stored


@FAST
@given(
    st.text(alphabet="0123456789", max_size=30).filter(lambda d: not 7 <= len(d) <= 15),
    st.booleans(),
)
def test_phone_with_too_few_or_too_many_digits_is_refused(digits, plus):
    with pytest.raises(Invalid):
        validators.phone(("+" if plus else "") + digits)


DIGITISH = st.text(
    alphabet=st.one_of(st.characters(categories=("Nd",)), st.sampled_from(" +-().")), max_size=25
)


@FAST
@_with_long_examples()
@example("\u0661\u0662\u0663\u0664\u0665\u0666\u0667")  # Arabic-Indic digits
@example("\u0967\u0968\u0969\u096a\u096b\u096c\u096d")  # Devanagari digits
@given(st.one_of(ANY_TEXT, DIGITISH))
def test_phone_on_any_text_is_ascii_digits_or_invalid(text):
    try:
        stored = validators.phone(text)
    except Invalid as error:
        assert str(error)[0].isupper()
        return
    # What the request database keeps: ASCII digits, with a + only in front.
    assert re.fullmatch(r"\+?[0-9]{7,15}", stored), stored
    assert validators.phone(stored) == stored


# -- reference codes --------------------------------------------------------------------------

KINDS = sorted(PREFIXES)
SEPARATORS = st.text(alphabet=" _-\u2013\u2014", max_size=2)
READ_ALIKES = {"1": "IiLl", "0": "Oo", "V": "Uu"}


@FAST
@given(st.sampled_from(KINDS))
def test_new_references_are_well_formed_and_accepted_as_they_are(kind):
    reference = new_reference(kind)
    prefix, dash, code = reference.partition("-")
    assert prefix == PREFIXES[kind] and dash == "-"
    assert len(code) == CODE_LENGTH and set(code) <= set(REFERENCE_ALPHABET)
    assert not set(code) & set("ILOU")
    assert validators.reference(reference) == reference
    assert kind_of(reference) == kind


@FAST
@given(
    st.sampled_from(sorted(PREFIXES.values())),
    st.text(alphabet=REFERENCE_ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH),
    st.data(),
)
def test_references_round_trip_through_case_separators_and_read_alikes(prefix, code, data):
    canonical = f"{prefix}-{code}"
    characters = list(prefix) + list(code)
    typed = data.draw(WHITESPACE)
    for index, char in enumerate(characters):
        if index >= 3 and char in READ_ALIKES and data.draw(st.booleans()):
            char = data.draw(st.sampled_from(READ_ALIKES[char]))
        typed += (char.lower() if data.draw(st.booleans()) else char) + data.draw(SEPARATORS)
    typed += data.draw(WHITESPACE)
    assert validators.reference(typed) == canonical


@FAST
@given(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3),
    st.text(alphabet=REFERENCE_ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH),
)
def test_references_with_an_unknown_prefix_are_refused(prefix, code):
    assume(prefix not in PREFIXES.values())
    with pytest.raises(Invalid):
        validators.reference(f"{prefix}-{code}")


@FAST
@given(
    st.sampled_from(sorted(PREFIXES.values())),
    st.text(alphabet=REFERENCE_ALPHABET, max_size=12).filter(lambda c: len(c) != CODE_LENGTH),
)
def test_references_of_the_wrong_length_are_refused(prefix, code):
    with pytest.raises(Invalid):
        validators.reference(f"{prefix}-{code}")


@FAST
@_with_long_examples()
@given(ANY_TEXT)
def test_reference_on_any_text_is_well_formed_or_invalid(text):
    try:
        stored = validators.reference(text)
    except Invalid as error:
        assert str(error)[0].isupper()
        return
    assert REFERENCE_PATTERN.match(stored) and len(stored) == 4 + CODE_LENGTH
    assert not set(stored[4:]) & set("ILOU")
    assert validators.reference(stored) == stored
    kind_of(stored)


# -- verification codes (the validator) -------------------------------------------------------

SIX_DIGITS = st.text(alphabet="0123456789", min_size=6, max_size=6)


@FAST
@given(SIX_DIGITS, st.data())
def test_verification_code_accepts_six_digits_with_spaces_and_dashes(code, data):
    typed = data.draw(WHITESPACE)
    for digit in code:
        typed += digit + data.draw(st.text(alphabet=" \t-", max_size=2))
    assert validators.verification_code(typed) == code
    assert validators.verification_code(code.translate(FULL_WIDTH)) == code


@FAST
@given(st.text(alphabet="0123456789 -", max_size=20))
def test_verification_code_needs_exactly_six_digits(text):
    digits = sum(c.isdigit() for c in text)
    if digits == 6:
        assert validators.verification_code(text) == re.sub(r"\D", "", text)
    else:
        with pytest.raises(Invalid):
            validators.verification_code(text)


@FAST
@_with_long_examples()
@example("\u0661\u0662\u0663\u0664\u0665\u0666")  # Arabic-Indic digits
@given(
    st.one_of(
        ANY_TEXT,
        DIGITISH,
        st.text(
            alphabet=st.one_of(st.characters(categories=("Nd",)), st.sampled_from(" -")),
            min_size=6,
            max_size=10,
        ),
    )
)
def test_verification_code_on_any_text_is_six_ascii_digits_or_invalid(text):
    try:
        code = validators.verification_code(text)
    except Invalid:
        return
    assert re.fullmatch(r"[0-9]{6}", code), code
    kept = [c for c in unicodedata.normalize("NFKC", text) if not c.isspace() and c != "-"]
    assert "".join(kept) == code


# -- verification codes (issue and check) -----------------------------------------------------

_ENGINE = create_engine(
    "sqlite://", future=True, poolclass=StaticPool, connect_args={"check_same_thread": False}
)
Base.metadata.create_all(_ENGINE)
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)
SECRETS = st.text(min_size=1, max_size=40)


def _session() -> Session:
    return Session(_ENGINE, future=True)


def _other(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def _check(session, secret, email, conversation, code, now=T0):
    return verification.check_code(session, secret, email, conversation, code, now=now)


@SOME
@given(SECRETS, email_addresses(), st.lists(SIX_DIGITS, max_size=verification.MAX_ATTEMPTS - 1))
def test_the_right_code_verifies_once_after_fewer_than_max_wrong_tries(secret, address, wrongs):
    email, conversation = address.lower(), uuid.uuid4().hex
    with _session() as session:
        code = verification.issue_code(session, secret, email, conversation, now=T0)
        assert validators.verification_code(code) == code
        row = session.execute(
            select(VerificationCode).where(VerificationCode.conversation_id == conversation)
        ).scalar_one()
        mail = (
            session.execute(select(OutboxMessage).order_by(OutboxMessage.id.desc()))
            .scalars()
            .first()
        )
        assert f"code is {code}" in mail.body and mail.to_address == email
        assert re.fullmatch(r"[0-9a-f]{64}", row.code_hash) and row.code_hash != code
        for tries, wrong in enumerate(wrongs, start=1):
            wrong = _other(code) if wrong == code else wrong
            result = _check(session, secret, email, conversation, wrong)
            assert result == verification.CheckResult(
                verification.WRONG, attempts_left=verification.MAX_ATTEMPTS - tries
            )
        assert _check(session, secret, email, conversation, code).ok
        assert _check(session, secret, email, conversation, code).outcome == verification.MISSING
        assert verification.active_code(session, email, conversation, now=T0) is None
        session.rollback()


@SOME
@given(SECRETS, SIX_DIGITS, st.integers(0, 3))
def test_max_wrong_tries_lock_the_code_for_good(secret, wrong, extra):
    email, conversation = "jane@example.com", uuid.uuid4().hex
    with _session() as session:
        code = verification.issue_code(session, secret, email, conversation, now=T0)
        wrong = _other(code) if wrong == code else wrong
        outcomes = [
            _check(session, secret, email, conversation, wrong)
            for _ in range(verification.MAX_ATTEMPTS)
        ]
        assert [r.outcome for r in outcomes[:-1]] == [verification.WRONG] * (
            verification.MAX_ATTEMPTS - 1
        )
        assert outcomes[-1] == verification.CheckResult(verification.LOCKED, attempts_left=0)
        for _ in range(extra + 1):
            assert _check(session, secret, email, conversation, code).outcome == verification.LOCKED
        assert verification.active_code(session, email, conversation, now=T0) is None
        session.rollback()


@SOME
@given(SECRETS, st.integers(0, 2 * int(verification.CODE_TTL.total_seconds())))
def test_a_code_verifies_until_it_expires_and_never_after(secret, seconds):
    email, conversation = "jane@example.com", uuid.uuid4().hex
    later = T0 + timedelta(seconds=seconds)
    with _session() as session:
        code = verification.issue_code(session, secret, email, conversation, now=T0)
        outcome = _check(session, secret, email, conversation, code, now=later).outcome
        expected = verification.OK if later < T0 + verification.CODE_TTL else verification.EXPIRED
        assert outcome == expected
        session.rollback()


@SOME
@given(SECRETS, SECRETS, st.sampled_from(["secret", "email", "conversation"]))
def test_a_code_is_bound_to_its_secret_address_and_conversation(secret, other_secret, changed):
    email, conversation = "jane@example.com", uuid.uuid4().hex
    assume(changed != "secret" or other_secret != secret)
    with _session() as session:
        code = verification.issue_code(session, secret, email, conversation, now=T0)
        args = {"secret": secret, "email": email, "conversation": conversation}
        args[changed] = {
            "secret": other_secret,
            "email": "john@example.com",
            "conversation": uuid.uuid4().hex,
        }[changed]
        result = _check(session, args["secret"], args["email"], args["conversation"], code)
        assert result.outcome == (
            verification.WRONG if changed == "secret" else verification.MISSING
        )
        # ...and the real owner still can.
        assert _check(session, secret, email, conversation, code).ok
        session.rollback()


@SOME
@given(SECRETS)
def test_a_new_code_replaces_the_old_one(secret):
    email, conversation = "jane@example.com", uuid.uuid4().hex
    with _session() as session:
        first = verification.issue_code(session, secret, email, conversation, now=T0)
        second = verification.issue_code(session, secret, email, conversation, now=T0)
        if first != second:
            assert _check(session, secret, email, conversation, first).outcome == verification.WRONG
        assert _check(session, secret, email, conversation, second).ok
        session.rollback()


# -- the policy parser: the published text ----------------------------------------------------

POLICY_RAW = POLICY_TEXT.read_text(encoding="utf-8")
SECTION_MAP_DATA = yaml.safe_load(SECTION_MAP.read_text(encoding="utf-8"))
REAL_POLICY = parse_policy(POLICY_RAW, SECTION_MAP_DATA)


def _compact(text: str) -> str:
    """Without whitespace and full stops: what `normalise_paragraph` may add."""
    return re.sub(r"[\s.]", "", text)


def test_the_real_policy_has_every_mapped_section_with_its_heading():
    entries = SECTION_MAP_DATA["sections"]
    assert REAL_POLICY.section_ids == [e["id"] for e in entries]
    lines = {line.strip() for line in POLICY_RAW.splitlines()}
    for entry, section in zip(entries, REAL_POLICY.sections, strict=True):
        assert section.heading == entry["heading"]
        assert section.heading_in_text == (entry["heading"] in lines)
        assert section.body.startswith(normalise_paragraph(entry["starts_with"]))


@pytest.mark.parametrize("section_id", [e["id"] for e in SECTION_MAP_DATA["sections"]])
def test_the_real_policy_sentences_come_from_the_text_and_lose_nothing(section_id):
    section = REAL_POLICY.section(section_id)
    source = _compact(POLICY_RAW)
    for index, paragraph in enumerate(section.paragraphs):
        sentences = [s.text for s in section.sentences if s.paragraph == index]
        assert " ".join(sentences) == paragraph  # nothing lost between sentences
        for sentence in sentences:
            assert _compact(sentence) in source  # nothing invented
    assert _compact(section.body) in source


@FEW
@given(st.data())
def test_the_real_policy_cut_anywhere_parses_or_fails_with_a_format_error(data):
    start = data.draw(st.integers(0, len(POLICY_RAW)))
    end = data.draw(st.integers(start, min(len(POLICY_RAW), start + 400)))
    text = POLICY_RAW[:start] + POLICY_RAW[end:]
    try:
        policy = parse_policy(text, SECTION_MAP_DATA)
    except PolicyFormatError:
        return
    assert policy.section_ids == REAL_POLICY.section_ids
    for section in policy.sections:
        assert _compact(section.body) in _compact(text)


# -- the policy parser: generated documents in the same format --------------------------------

LOWER = "abcdefghijkmnoprstuvwxy"  # no q or z: markers are "Zq" + a letter
WORDS = st.one_of(
    st.text(alphabet=LOWER, min_size=1, max_size=8),
    st.sampled_from(["Co.,Ltd.", "e.g.", "i.e.", "etc.", "(a)", "2020", "1.", "x-y"]),
)


@st.composite
def sentences(draw) -> str:
    first = draw(st.text(alphabet=LOWER, min_size=1, max_size=8)).capitalize()
    rest = draw(st.lists(WORDS, max_size=8))
    return " ".join([first] + rest) + draw(st.sampled_from(".;!?:"))


@st.composite
def paragraphs(draw, marker: str = "") -> str:
    parts = draw(st.lists(sentences(), min_size=1, max_size=4))
    text = parts[0]
    for part in parts[1:]:
        glue = draw(st.sampled_from([" ", "\n", "  "] + ([""] if text.endswith(".") else [])))
        text += glue + part
    return f"{marker} {text}" if marker else text


HEADINGS = st.lists(st.text(alphabet=LOWER, min_size=1, max_size=9), min_size=1, max_size=5).map(
    lambda ws: " ".join(ws).capitalize()
)


@st.composite
def policy_documents(draw):
    """A policy text, its section map, and what the parser must find in it."""
    count = draw(st.integers(1, 5))
    ids = [f"part_{i}" for i in range(count - 1)] + ["contact"]
    title = draw(HEADINGS)
    date = draw(st.sampled_from(["November 25, 2020", "1 March 2024", "2024-03-01"]))
    text = f"{title}\n\n\nEffective date: {date}\n\n\n"
    entries, expected = [], []
    for index, section_id in enumerate(ids):
        marker = f"Zq{'abcdefgh'[index]}"
        raw = [draw(paragraphs(marker))] + draw(st.lists(paragraphs(), max_size=3))
        has_address = section_id == "contact" and draw(st.integers(0, 9)) > 0
        if has_address:
            raw += [draw(paragraphs()), "Address: " + draw(HEADINGS)]
        heading = draw(HEADINGS)
        in_text = draw(st.booleans())
        if in_text:
            text += heading + draw(st.sampled_from(["\n\n", "\n\n\n", "\n \n"]))
        text += "\n\n".join(raw) + "\n\n\n"
        entry = {"id": section_id, "heading": heading, "starts_with": marker}
        if draw(st.booleans()):
            candidates = [
                s
                for p in raw
                for s in split_sentences(normalise_paragraph(p))
                if "'" not in s and not s.startswith("Zq")
            ]
            if candidates:
                anchor = draw(st.sampled_from(candidates))
                entry["gaps"] = [f"the list after '{anchor}' is empty"]
        entries.append(entry)
        expected.append((in_text, tuple(normalise_paragraph(p) for p in raw), has_address))
    return text, {"sections": entries}, title, date, expected


@FEW
@given(policy_documents())
def test_generated_policies_parse_every_section_in_order(document):
    text, section_map, title, date, expected = document
    has_address = expected[-1][2]
    try:
        policy = parse_policy(text, section_map)
    except PolicyFormatError as error:
        assert not has_address and "Address:" in str(error)
        return
    assert has_address
    assert policy.title == title and policy.effective_date == date
    assert policy.section_ids == [e["id"] for e in section_map["sections"]]
    for entry, section, (in_text, paragraphs_, _) in zip(
        section_map["sections"], policy.sections, expected, strict=True
    ):
        assert section.heading == entry["heading"]
        assert section.heading_in_text == in_text
        assert section.paragraphs == paragraphs_
        for index, paragraph in enumerate(section.paragraphs):
            assert " ".join(s.text for s in section.sentences if s.paragraph == index) == paragraph
        for gap in section.gaps:
            assert gap.kind == "list" and gap.anchor in section.body
            assert any(section.gap_for(s.text) == gap for s in section.sentences)
    assert policy.postal_contact.address == expected[-1][1][-1][len("Address:") :].strip()
    assert policy.postal_contact.addressee == expected[-1][1][-2]


@FEW
@given(policy_documents(), st.data())
def test_generated_policies_missing_a_section_fail_naming_it(document, data):
    text, section_map, *_ = document
    entries = section_map["sections"]
    index = data.draw(st.integers(0, len(entries) - 1))
    broken = text.replace(entries[index]["starts_with"], "Gone")
    with pytest.raises(PolicyFormatError, match=entries[index]["id"]):
        parse_policy(broken, section_map)


@FEW
@given(
    st.one_of(ANY_TEXT, policy_documents().map(lambda d: d[0])),
    st.lists(
        st.fixed_dictionaries(
            {
                "id": st.text(alphabet=LOWER, min_size=1, max_size=6),
                "heading": st.text(max_size=10),
                "starts_with": st.text(max_size=6),
            }
        ),
        max_size=4,
    ),
)
@example("Effective date: now\n\nHello.", [])
def test_any_text_and_map_parse_or_fail_with_a_format_error(text, entries):
    try:
        policy = parse_policy(text, {"sections": entries})
    except PolicyFormatError:
        return
    assert policy.section_ids == [e["id"] for e in entries]


@FAST
@given(ANY_TEXT)
def test_split_sentences_loses_nothing_and_invents_nothing(text):
    paragraph = " ".join(text.split())
    parts = split_sentences(paragraph)
    assert " ".join(parts) == paragraph
    assert all(part and part == part.strip() for part in parts)


@FAST
@given(st.one_of(ANY_TEXT, paragraphs()))
@example("1Mail and message push.When you use")
def test_normalise_paragraph_only_adds_spaces_and_full_stops_and_is_idempotent(text):
    once = normalise_paragraph(text)
    assert normalise_paragraph(once) == once
    assert _compact(once) == _compact(text)


# -- masking ----------------------------------------------------------------------------------

PLAIN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ,;:!?", max_size=20).map(
    lambda s: " ".join(s.split())
)


@FAST
@given(email_addresses(), PLAIN, PLAIN)
@example("jane.doe'x@example.com", "from", "ok")
def test_mask_pii_replaces_a_whole_email_address(address, before, after):
    text = f"{before} {address} {after}"
    masked = mask_pii(text)
    assert masked == f"{before} {mask_email(address)} {after}"
    assert address not in masked
    assert mask_pii(masked) == masked


@FAST
@given(email_addresses(), st.text(alphabet=ATEXT + "/?=&:", max_size=120))
@example("jane@example.com", "/staff/requests/" + "x" * 60 + "?q=")
def test_mask_pii_masks_an_address_glued_to_what_comes_before_it(address, before):
    masked = mask_pii(f"GET {before}{address} HTTP/1.1")
    domain = address.split("@")[1]
    assert "@" + domain not in masked and address not in masked
    assert "***@" in masked and masked.startswith("GET ") and masked.endswith(" HTTP/1.1")


@FAST
@given(phone_numbers(), PLAIN, PLAIN)
def test_mask_pii_replaces_a_whole_phone_number(number, before, after):
    typed, stored = number
    assume(not re.fullmatch(r"\d{4}-\d{2}-\d{2}", typed))  # ISO dates are left alone on purpose
    masked = mask_pii(f"{before} {typed} {after}")
    assert masked == f"{before} ***{stored[-2:]} {after}"
    assert stored.lstrip("+")[:-2] not in re.sub(r"\D", "", masked)


@FAST
@_with_long_examples()
@given(st.one_of(ANY_TEXT, st.text(alphabet="0123456789 -.()+@abc*", max_size=40)))
def test_mask_pii_is_idempotent(text):
    masked = mask_pii(text)
    assert mask_pii(masked) == masked


# -- conversation readers and slot validators -------------------------------------------------

INTENTS = st.sampled_from([None, "affirm", "deny", "stop", "inform", "greet"])
ASCII_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)


@FAST
@_with_long_examples(intent=None)
@given(text=ANY_TEXT, intent=INTENTS)
def test_read_yes_no_returns_a_bool_or_none_and_intents_win(text, intent):
    answer = flows.read_yes_no(text, intent)
    assert answer in (True, False, None)
    if intent == "affirm":
        assert answer is True
    if intent in ("deny", "stop"):
        assert answer is False


@FAST
@given(ASCII_TEXT)
def test_read_yes_no_ignores_case_and_typographic_apostrophes(text):
    answer = flows.read_yes_no(text, None)
    assert flows.read_yes_no(text.upper(), None) == answer
    assert flows.read_yes_no(text.replace("'", "\u2019"), None) == answer


ROLE_RANK = {None: 0, "minor": 1, "guardian": 2}


@FAST
@given(
    st.lists(
        st.one_of(
            ANY_TEXT,
            st.sampled_from(
                [
                    "I'm 12",
                    "I am 13 years old",
                    "my son",
                    "I am his guardian",
                    "I am 5 minutes late",
                    "for my daughter",
                    "I\u2019m a minor",
                ]
            ),
        ),
        max_size=5,
    )
)
def test_requester_role_is_the_strongest_role_of_any_message(texts):
    role = flows.requester_role(texts)
    assert role in ROLE_RANK
    singles = [flows.requester_role([t]) for t in texts]
    assert ROLE_RANK[role] == max([0] + [ROLE_RANK[r] for r in singles])
    assert flows.requester_role(list(reversed(texts))) == role


@FAST
@_with_long_examples(slot="correction_note")
@given(
    slot=st.sampled_from(sorted(flows.SLOT_VALIDATORS)),
    text=st.one_of(
        ANY_TEXT,
        st.sampled_from(
            ["all", "only some photos", "skip", "the e-mail", "jane@example.com", "wechat"]
        ),
    ),
)
def test_slot_validators_return_a_stored_value_that_validates_to_itself(slot, text):
    validate = flows.SLOT_VALIDATORS[slot]
    try:
        stored = validate(text)
    except Invalid:
        return
    assert isinstance(stored, str) and stored
    assert validate(stored) == stored


@FAST
@_with_long_examples()
@given(st.one_of(ANY_TEXT, st.sampled_from(["skip", "no", "-", "none", "n/a", " No thanks "])))
def test_optional_and_required_reasons(text):
    collapsed = " ".join(text.split())
    usable = bool(collapsed) and len(collapsed) <= 500

    def required(answer):  # a suspension cannot do without a reason
        return flows.read_reason("suspension", answer)

    if flows.is_skip(text):
        assert flows.validate_optional(text) == flows.NONE
        with pytest.raises(Invalid):
            required(text)
    elif usable:
        assert flows.validate_optional(text) == required(text) == collapsed
    else:
        for validate in (flows.validate_optional, required):
            with pytest.raises(Invalid):
                validate(text)
