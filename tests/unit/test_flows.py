"""The request flows without Rasa: slots to ask, how answers are read, and what is said back."""

import re
from datetime import datetime

import pytest

from bot.conversation import flows
from bot.conversation.flows import FLOWS, NONE, QUESTION_SLOTS, UNVERIFIED, VERIFIED
from bot.core import texts
from bot.policy.document import load_policy
from bot.requests import validators
from bot.requests.registry import NAMES

KINDS = ("deletion", "correction", "suspension", "access", "unsubscribe")  # the values below
QUOTED_PARAGRAPH = re.compile(r"^\u201c(.+)\u201d$", re.M)
# The questions with fixed wording, and what each slot is for, as the catalogue words them.
QUESTIONS = {slot: flows.question(slot, None) for slot in QUESTION_SLOTS}
SLOT_EXPLANATIONS = {
    key.rsplit(".", 1)[1]: texts.text(key)
    for key in texts.catalogue().keys()
    if key.startswith("flow.slot_purpose.")
}


@pytest.fixture(scope="module")
def policy():
    return load_policy()


def policy_sentences(policy, section_id=None):
    sections = [policy.section(section_id)] if section_id else policy.sections
    return {s.text for section in sections for s in section.sentences}


# -- which slots are asked --------------------------------------------------------------------


def test_every_kind_has_a_flow_and_form():
    assert set(FLOWS) == set(NAMES) and set(KINDS) <= set(NAMES)
    assert all(flow.kind == kind and flow.form == f"{kind}_form" for kind, flow in FLOWS.items())
    assert flows.FLOW_BY_FORM == {f"{kind}_form": FLOWS[kind] for kind in NAMES}
    assert [k for k in KINDS if not FLOWS[k].verify] == ["unsubscribe"]


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("deletion", ["account_email", "deletion_scope", "request_reason", "confirm_request"]),
        (
            "correction",
            [
                "account_email",
                "correction_item",
                "correction_value",
                "correction_note",
                "confirm_request",
            ],
        ),
        ("suspension", ["account_email", "request_reason", "confirm_request"]),
        ("access", ["account_email", "access_scope", "confirm_request"]),
        ("unsubscribe", ["account_email", "confirm_request"]),
    ],
)
def test_required_slots_before_anything_is_filled(kind, expected):
    assert FLOWS[kind].required_slots({}) == expected


@pytest.mark.parametrize(
    "kind, scope_slot, items_slot",
    [
        ("deletion", "deletion_scope", "deletion_items"),
        ("access", "access_scope", "access_items"),
    ],
)
def test_items_are_asked_only_for_a_specific_scope(kind, scope_slot, items_slot):
    flow = FLOWS[kind]
    assert items_slot not in flow.required_slots({scope_slot: None})
    assert items_slot not in flow.required_slots({scope_slot: "all"})
    wanted = flow.required_slots({scope_slot: "specific"})
    assert items_slot in wanted
    assert wanted.index(items_slot) == wanted.index(scope_slot) + 1


def test_scope_of_one_flow_does_not_open_the_items_of_the_other():
    assert "deletion_items" not in FLOWS["deletion"].required_slots({"access_scope": "specific"})
    assert "access_items" not in FLOWS["access"].required_slots({"deletion_scope": "specific"})


@pytest.mark.parametrize("kind", ["deletion", "correction", "suspension", "access"])
def test_code_is_asked_only_after_an_explicit_yes(kind):
    flow = FLOWS[kind]
    for confirm in (None, False, "yes", "True", 1):
        assert "verification_code" not in flow.required_slots({"confirm_request": confirm})
    wanted = flow.required_slots({"confirm_request": True})
    assert wanted[-2:] == ["confirm_request", "verification_code"]


def test_unsubscribe_never_asks_a_code():
    flow = FLOWS["unsubscribe"]
    assert flow.verify is False
    assert "verification_code" not in flow.required_slots({"confirm_request": True})
    assert flow.required_slots({"confirm_request": True, "account_email": "a@b.cn"}) == [
        "account_email",
        "confirm_request",
    ]


# -- reading answers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "yes",
        "Yes!",
        "y",
        "yeah",
        "ok",
        "Okay",
        "sure",
        "correct",
        "that's right",
        "go ahead",
        "yes please",
        "submit",
        "yes, that's correct",
        "Yes it is right",
    ],
)
def test_read_yes_no_yes(text):
    assert flows.read_yes_no(text, None) is True


@pytest.mark.parametrize(
    "text",
    [
        "no",
        "No.",
        "n",
        "nope",
        "nah",
        "wrong",
        "incorrect",
        "don't",
        "do not",
        "not right",
        "that's not correct",
        "no, the e-mail is wrong",
    ],
)
def test_read_yes_no_no(text):
    assert flows.read_yes_no(text, None) is False


@pytest.mark.parametrize("text", ["maybe", "hmm", "what is this?", "DEL-7K3M9Q", ""])
def test_read_yes_no_unclear(text):
    assert flows.read_yes_no(text, None) is None


def test_read_yes_no_follows_the_intent_first():
    assert flows.read_yes_no("whatever", "affirm") is True
    assert flows.read_yes_no("yes", "deny") is False
    assert flows.read_yes_no("yes", "stop") is False
    assert flows.read_yes_no("yes", "greet") is True  # other intents: the words decide


@pytest.mark.parametrize("text", ["don't confirm", "it isn't right", "that isn't correct"])
def test_read_yes_no_negated_contraction_is_not_yes(text):
    assert flows.read_yes_no(text, None) is not True


@pytest.mark.parametrize(
    "text, scope",
    [
        ("the whole account", "all"),
        ("all my data", "all"),
        ("everything", "all"),
        ("delete the entire account", "all"),
        ("close it", "all"),
        ("only specific data", "specific"),
        ("just some photos", "specific"),
        ("certain records", "specific"),
        ("part of it", "specific"),
        ("some of it, but all of the photos", None),
        ("hmm", None),
        ("", None),
    ],
)
def test_read_scope(text, scope):
    assert flows.read_scope(text) == scope


def test_validate_scope():
    assert flows.validate_scope("All of it") == "all"
    with pytest.raises(validators.Invalid, match="whole account"):
        flows.validate_scope("not sure")


@pytest.mark.parametrize(
    "text, item",
    [
        ("my name", "name"),
        ("Surname", "name"),
        ("username", "name"),
        ("the e-mail address", "email"),
        ("email", "email"),
        ("e mail", "email"),
        ("my mobile", "phone"),
        ("phone number", "phone"),
        ("WeChat", "wechat"),
        ("my weixin ID", "wechat"),
        ("the WeChat name", "wechat"),
        ("alipay account", "alipay"),
        ("zhifubao", "alipay"),
        ("the Alipay phone number", "alipay"),
        ("something else", "other"),
        ("other", "other"),
        ("my address", None),
        ("nicknamed", None),
        ("", None),
    ],
)
def test_read_correction_item(text, item):
    assert flows.read_correction_item(text) == item


def test_validate_correction_item():
    assert flows.validate_correction_item("phone") == "phone"
    with pytest.raises(validators.Invalid, match="Which item is wrong"):
        flows.validate_correction_item("my shoe size")


@pytest.mark.parametrize(
    "text",
    [
        "skip",
        "Skip.",
        "SKIP",
        "none",
        "no",
        "nope",
        "nothing",
        "n/a",
        "N/A",
        "no reason",
        "rather not say",
        "no thanks",
        "-",
        " - ",
        "no note",
        "prefer not to say",
    ],
)
def test_is_skip(text):
    assert flows.is_skip(text) is True


@pytest.mark.parametrize(
    "text",
    ["I don't use the account any more", "skip the photos", "no longer needed", "privacy concerns"],
)
def test_is_not_skip(text):
    assert flows.is_skip(text) is False


def test_validate_optional_and_reason():
    assert flows.validate_optional("skip") == NONE
    assert flows.validate_optional("  keep   my orders ") == "keep my orders"
    assert flows.read_reason("suspension", "I don't want surveys") == "I don't want surveys"
    with pytest.raises(validators.Invalid, match="reason"):
        flows.read_reason("suspension", "skip")
    assert flows.read_reason("deletion", "skip") == NONE


def test_a_required_reason_is_asked_in_the_kinds_own_words():
    text, buttons = flows.question("request_reason", "suspension")
    assert text.startswith("Why would you like the account suspended?") and buttons == ()
    assert flows.question("request_reason", "deletion") == QUESTIONS["request_reason"]
    assert flows.question("request_reason", None) == QUESTIONS["request_reason"]


@pytest.mark.parametrize(
    "text",
    [
        "resend",
        "Please send again",
        "new code please",
        "I didn't get the code",
        "I did not get it",
        "haven't received anything",
        "it hasn't arrived",
        "no code",
    ],
)
def test_wants_resend(text):
    assert flows.wants_resend(text) is True


@pytest.mark.parametrize("text", ["123456", "123 456", "yes", "I can't receive e-mail there"])
def test_does_not_want_resend(text):
    assert flows.wants_resend(text) is False


def test_wants_resend_with_a_typographic_apostrophe():
    assert flows.wants_resend("I didn\u2019t get the code") is True


@pytest.mark.parametrize(
    "text",
    [
        "I can't receive e-mail there",
        "I cannot access that inbox",
        "I CAN\u2019T ACCESS it",
        "I lost access to that mailbox",
        "that's my old email",
        "I no longer have that address",
        "unable to receive mail",
    ],
)
def test_cannot_verify(text):
    assert flows.cannot_verify(text) is True


@pytest.mark.parametrize("text", ["123456", "resend", "I can receive it", "yes"])
def test_can_verify(text):
    assert flows.cannot_verify(text) is False


# -- minors and guardians ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I'm 12",
        "i am 13 years old",
        "I am only 9",
        "I'm 17 yrs",
        "I am under 14",
        "I'm under 18",
        "I am a minor",
        "I'm a teenager",
        "my age is 15",
        "Hi, I am 16 and want out",
    ],
)
def test_requester_role_minor(text):
    assert flows.requester_role([text]) == "minor"


@pytest.mark.parametrize(
    "text",
    [
        "my son's account",
        "It's for my daughter",
        "my 12-year-old son",
        "I'm her mother",
        "I am his father",
        "I am the guardian",
        "as a parent I want this deleted",
        "for my child",
        "my kids use it",
    ],
)
def test_requester_role_guardian(text):
    assert flows.requester_role([text]) == "guardian"


@pytest.mark.parametrize(
    "text",
    [
        "I have 2 accounts",
        "I'm 18",
        "I am 25",
        "I'm 100",
        "I am the account holder",
        "delete my account",
        "my boyfriend made it",
        "I'm 1st in line",
        "",
        None,
    ],
)
def test_requester_role_adult_is_none(text):
    assert flows.requester_role([text]) is None


def test_requester_role_over_several_messages():
    assert flows.requester_role(["hello", "I'm 12", "delete my data"]) == "minor"
    # A guardian acting for a child wins over a mentioned age.
    assert flows.requester_role(["I'm 12", "no wait, it's my son's account"]) == "guardian"
    assert flows.requester_role([]) is None


def test_requester_role_minor_with_a_typographic_apostrophe():
    assert flows.requester_role(["I\u2019m 12"]) == "minor"


def test_requester_role_legal_guardian():
    assert flows.requester_role(["I am her legal guardian"]) == "guardian"


@pytest.mark.parametrize(
    "role, cues",
    [
        ("minor", ("under the age of 14", "reached the age of 14")),
        ("guardian", ("guardian of a minor", "minors under your custody")),
    ],
)
def test_guardian_notice_quotes_the_minors_section(policy, role, cues):
    notice = flows.guardian_notice(policy, role)
    section = policy.section("minors")
    assert f"\u201c{section.heading}\u201d" in notice
    assert section.heading == "Protection of minors"
    quoted = QUOTED_PARAGRAPH.findall(notice)
    assert len(quoted) == 2
    assert set(quoted) <= policy_sentences(policy, "minors")
    for cue in cues:
        assert any(cue in sentence for sentence in quoted)
    made_by = "by a minor." if role == "minor" else "by a guardian for a minor."
    assert notice.endswith(made_by)


def test_guardian_notices_differ(policy):
    minor = set(QUOTED_PARAGRAPH.findall(flows.guardian_notice(policy, "minor")))
    guardian = set(QUOTED_PARAGRAPH.findall(flows.guardian_notice(policy, "guardian")))
    assert minor and guardian and not minor & guardian
    assert flows.guardian_notice(policy, "minor").startswith("Since you're under 18")
    assert flows.guardian_notice(policy, "guardian").startswith(
        "Since you're acting for your child"
    )


# -- summary, confirmation, stored details ----------------------------------------------------

VALUES = {
    "deletion": {
        "account_email": "jane@example.com",
        "deletion_scope": "specific",
        "deletion_items": "my old photos",
        "request_reason": "moving abroad",
    },
    "correction": {
        "account_email": "jane@example.com",
        "correction_item": "phone",
        "correction_value": "+8613800138000",
        "correction_note": "new SIM",
    },
    "suspension": {"account_email": "jane@example.com", "request_reason": "no more surveys"},
    "access": {
        "account_email": "jane@example.com",
        "access_scope": "specific",
        "access_items": "my invoices",
    },
    "unsubscribe": {"account_email": "jane@example.com"},
}


@pytest.mark.parametrize(
    "kind, expected",
    [
        (
            "deletion",
            [
                "Request: Delete personal data",
                "Account e-mail: jane@example.com",
                "What: my old photos",
                "Reason: moving abroad",
            ],
        ),
        (
            "correction",
            [
                "Request: Correct personal data",
                "Account e-mail: jane@example.com",
                "Item: phone number",
                "Correct value: +8613800138000",
                "Note: new SIM",
            ],
        ),
        (
            "suspension",
            [
                "Request: Suspend the account",
                "Account e-mail: jane@example.com",
                "Reason: no more surveys",
            ],
        ),
        (
            "access",
            [
                "Request: Send a copy of personal data",
                "Account e-mail: jane@example.com",
                "What: my invoices",
            ],
        ),
        (
            "unsubscribe",
            ["Request: Unsubscribe from promotional e-mail", "Account e-mail: jane@example.com"],
        ),
    ],
)
def test_summary_lines(kind, expected):
    assert flows.summary(kind, VALUES[kind], None).splitlines() == expected


def test_summary_whole_scope_and_skipped_answers():
    deletion = flows.summary(
        "deletion",
        {
            "account_email": "a@b.cn",
            "deletion_scope": "all",
            "deletion_items": "ignored",
            "request_reason": NONE,
        },
        None,
    )
    assert "What: the whole account and all its data" in deletion
    assert "ignored" not in deletion and "Reason" not in deletion
    access = flows.summary("access", {"account_email": "a@b.cn", "access_scope": "all"}, None)
    assert "What: a copy of all my data" in access
    correction = flows.summary(
        "correction",
        {
            "account_email": "a@b.cn",
            "correction_item": "wechat",
            "correction_value": "jane_doe",
            "correction_note": NONE,
        },
        None,
    )
    assert "Item: WeChat account" in correction and "Note" not in correction


@pytest.mark.parametrize(
    "role, line", [("minor", "Made by: a minor"), ("guardian", "Made by: a guardian for a minor")]
)
def test_summary_names_the_role(role, line):
    assert flows.summary("deletion", VALUES["deletion"], role).splitlines()[-1] == line
    assert "Made by" not in flows.summary("deletion", VALUES["deletion"], None)


@pytest.mark.parametrize("kind", KINDS)
def test_confirmation_prompt_contains_the_summary(kind):
    prompt = flows.confirmation_prompt(kind, VALUES[kind], "minor")
    assert flows.summary(kind, VALUES[kind], "minor") in prompt
    typed = {k: v for k, v in VALUES[kind].items() if not k.endswith(("_scope", "_item"))}
    for value in typed.values():  # scope and item are shown as words, not as stored
        assert value in prompt
    assert "Is this right?" in prompt
    if FLOWS[kind].verify:
        assert "6-digit code" in prompt and "right away" not in prompt
    else:
        assert "takes effect right away" in prompt and "code" not in prompt


def test_code_sent_prompt_masks_the_address():
    prompt = flows.code_sent_prompt("jane.doe@example.com")
    assert "jane.doe@example.com" not in prompt
    assert "j***@e***.com" in prompt and "6-digit code" in prompt and "15 minutes" in prompt


@pytest.mark.parametrize(
    "kind, values, details",
    [
        ("deletion", VALUES["deletion"], {"scope": "specific", "items": "my old photos"}),
        ("deletion", {"deletion_scope": "all", "deletion_items": "x"}, {"scope": "all"}),
        (
            "correction",
            VALUES["correction"],
            {"item": "phone", "new_value": "+8613800138000", "note": "new SIM"},
        ),
        (
            "correction",
            {"correction_item": "name", "correction_value": "张伟", "correction_note": NONE},
            {"item": "name", "new_value": "张伟"},
        ),
        ("access", VALUES["access"], {"scope": "specific", "items": "my invoices"}),
        ("access", {"access_scope": "all", "access_items": "x"}, {"scope": "all"}),
        ("suspension", VALUES["suspension"], {}),
        ("unsubscribe", VALUES["unsubscribe"], {}),
    ],
)
def test_details_for(kind, values, details):
    assert flows.details_for(kind, values) == details


@pytest.mark.parametrize(
    "kind, values, reason",
    [
        ("deletion", {"request_reason": "moving abroad"}, "moving abroad"),
        ("deletion", {"request_reason": NONE}, None),
        ("deletion", {}, None),
        ("suspension", {"request_reason": "no more surveys"}, "no more surveys"),
        ("correction", {"request_reason": "stray"}, None),
        ("access", {"request_reason": "stray"}, None),
        ("unsubscribe", {"request_reason": "stray"}, None),
    ],
)
def test_reason_for(kind, values, reason):
    assert flows.reason_for(kind, values) == reason


# -- after submission -------------------------------------------------------------------------

DUE = datetime(2024, 3, 25, 10, 0)


def test_submitted_message_verified(policy):
    text = flows.submitted_message(policy, "deletion", "DEL-7K3M9Q", DUE, VERIFIED, False, 15)
    assert "DEL-7K3M9Q" in text and "25 March 2024" in text and "15 working days" in text
    assert "deletion request" in text
    assert "not yet verified" not in text and policy.postal_contact.address not in text


def test_submitted_message_duplicate(policy):
    text = flows.submitted_message(policy, "access", "ACC-7K3M9Q", DUE, VERIFIED, True, 15)
    assert text.startswith("You already have an open access request")
    assert "ACC-7K3M9Q" in text and "25 March 2024" in text
    assert "haven't made a second one" in text


def test_submitted_message_unsubscribe_quotes_the_service_announcement_sentence(policy):
    text = flows.submitted_message(policy, "unsubscribe", "UNS-7K3M9Q", DUE, VERIFIED, False, 15)
    assert "UNS-7K3M9Q" in text and "unsubscribed" in text
    section = policy.section("communications")
    assert f"\u201c{section.heading}\u201d" in text
    quoted = [s for s in policy_sentences(policy, "communications") if f"\u201c{s}\u201d" in text]
    assert len(quoted) == 1 and "may not be able to cancel" in quoted[0]
    assert "working days" not in text


def test_submitted_message_unverified_says_staff_will_check(policy):
    text = flows.submitted_message(policy, "suspension", "SUS-7K3M9Q", DUE, UNVERIFIED, False, 15)
    assert "SUS-7K3M9Q" in text
    assert "not yet verified" in text and "staff will check your identity" in text
    assert policy.postal_contact.address in text and policy.postal_contact.addressee in text


# -- how each flow opens ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, topic",
    [
        ("deletion", "delete"),
        ("correction", "correct"),
        ("access", "access"),
        ("suspension", "suspended"),
        ("unsubscribe", "unsubscribe"),
    ],
)
def test_intro_quotes_the_policy(policy, kind, topic):
    text = flows.intro(policy, kind)
    head, _, rest = text.partition("\n\nI can take this request here.")
    assert rest, text
    heading = re.match(r"The policy section \u201c(.+?)\u201d says:", head).group(1)
    section = next(s for s in policy.sections if s.heading == heading)
    quoted = QUOTED_PARAGRAPH.findall(head)
    assert quoted and set(quoted) <= {s.text for s in section.sentences}
    assert any(topic in sentence for sentence in quoted)
    if FLOWS[kind].verify:
        assert "6-digit code" in rest
    else:
        assert "code" not in rest and "right away" in rest
    assert "\u201cstop\u201d" in rest


# -- wording ----------------------------------------------------------------------------------


@pytest.mark.parametrize("slot", sorted(SLOT_EXPLANATIONS))
def test_explain(slot):
    text = flows.explain(slot)
    assert SLOT_EXPLANATIONS[slot] in text
    assert text.startswith("Sorry, I still can't use that.")
    assert "\u201cstop\u201d" in text


def test_every_asked_slot_can_be_explained():
    asked = {slot for flow in FLOWS.values() for slot in flow.slots}
    assert asked <= set(SLOT_EXPLANATIONS)


@pytest.mark.parametrize("key", sorted(QUESTIONS))
def test_questions_have_text_and_well_formed_buttons(key):
    text, buttons = QUESTIONS[key]
    assert text.strip() and text.rstrip().endswith((".", "?"))
    for title, payload in buttons:
        assert title.strip() and payload.strip()


@pytest.mark.parametrize(
    "key, read",
    [
        ("deletion_scope", flows.read_scope),
        ("access_scope", flows.read_scope),
        ("correction_item", flows.read_correction_item),
        ("request_reason", flows.is_skip),
        ("correction_note", flows.is_skip),
    ],
)
def test_button_payloads_are_read_like_typed_answers(key, read):
    for _title, payload in QUESTIONS[key][1]:
        assert read(payload) not in (None, False), payload
    if read is flows.read_scope:
        assert [read(p) for _t, p in QUESTIONS[key][1]] == ["all", "specific"]
    if read is flows.read_correction_item:
        assert [read(p) for _t, p in QUESTIONS[key][1]] == list(flows.CORRECTION_ITEMS)


@pytest.mark.parametrize(
    "text, role",
    [
        ("I am 5 minutes late", None),
        ("I am 15 and I want this gone", "minor"),
        ("I am under 16", "minor"),
        ("i'm 13 years old", "minor"),
    ],
)
def test_requester_role_reads_ages_only_as_ages(text, role):
    assert flows.requester_role([text]) == role


def test_a_lone_question_mark_is_not_a_skip():
    assert flows.is_skip("?") is False and flows.is_skip("") is False
