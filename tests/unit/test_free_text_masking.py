"""`mask_free_text`: what is kept of a visitor's question for the legal department says nothing
about who asked: no e-mail address, phone number, request reference, long number or name."""

import re

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from bot.core.masking import (
    EMAIL_PLACEHOLDER,
    NAME_PLACEHOLDER,
    NUMBER_PLACEHOLDER,
    PHONE_PLACEHOLDER,
    REFERENCE_PLACEHOLDER,
    mask_free_text,
)
from bot.requests.references import PREFIXES, REFERENCE_ALPHABET, new_reference
from tests.support.properties import FAST, LONG_TEXTS, email_addresses, phone_numbers


@pytest.mark.parametrize(
    "text, masked",
    [
        ("write to jane.doe@example.com please", f"write to {EMAIL_PLACEHOLDER} please"),
        ("Jane.Doe+privacy@mail.example.co.uk?", f"{EMAIL_PLACEHOLDER}?"),
        ("13800138000@qq.com is mine", f"{EMAIL_PLACEHOLDER} is mine"),
        ("call +86 138 0013 8000 today", f"call {PHONE_PLACEHOLDER} today"),
        ("call (010) 6552-9988.", f"call {PHONE_PLACEHOLDER}."),
        ("my number: 138.0013.8000", f"my number: {PHONE_PLACEHOLDER}"),
        ("我的手机号是13800138000谢谢", f"我的手机号是{PHONE_PLACEHOLDER}谢谢"),
        ("电话：１３８００１３８０００", f"电话：{PHONE_PLACEHOLDER}"),  # full-width digits
        ("what about DEL-7K3M9Q?", f"what about {REFERENCE_PLACEHOLDER}?"),
        ("status of del 7k3m9q please", f"status of {REFERENCE_PLACEHOLDER} please"),
        ("COR7K3M9Q and acc-22xyzw", f"{REFERENCE_PLACEHOLDER} and {REFERENCE_PLACEHOLDER}"),
        ("UNS-ABCDEF", REFERENCE_PLACEHOLDER),  # no digit, but typed in capitals
        ("sus-abcdef", REFERENCE_PLACEHOLDER),  # no digit, but with the dash
        ("DEL KMNPQR", REFERENCE_PLACEHOLDER),  # no digit, no dash, in capitals
        ("is DEL-7K3M9O mine", f"is {REFERENCE_PLACEHOLDER} mine"),  # O typed for 0
        ("XYZ-7K3M9Q, a kind not made yet", f"{REFERENCE_PLACEHOLDER}, a kind not made yet"),
        ("my code is 123456", f"my code is {NUMBER_PLACEHOLDER}"),
        ("account 98765432101234567", f"account {PHONE_PLACEHOLDER}"),
        ("id abc1234567def", f"id abc{PHONE_PLACEHOLDER}def"),
        ("id abc123456def", f"id abc{NUMBER_PLACEHOLDER}def"),
        ("call 138 0013 8000pm", f"call {PHONE_PLACEHOLDER}pm"),
        (
            "My name is Li Wei and I want my data",
            f"My name is {NAME_PLACEHOLDER} and I want my data",
        ),
        ("my name is john smith, delete it", f"my name is {NAME_PLACEHOLDER}, delete it"),
        ("MY NAME IS ANNA MARIA LUISA GARCIA", f"MY NAME IS {NAME_PLACEHOLDER}"),
        ("my name's O'Brien-Smith.", f"my name's {NAME_PLACEHOLDER}."),
        ("I am called Zoë", f"I am called {NAME_PLACEHOLDER}"),
        ("Hi, this is Sam from accounts", f"Hi, this is {NAME_PLACEHOLDER} from accounts"),
        ("I'm Wang Fang. Where is my data?", f"I'm {NAME_PLACEHOLDER}. Where is my data?"),
        ("I’m Priya", f"I’m {NAME_PLACEHOLDER}"),
        ("I am John Smith from Beijing", f"I am {NAME_PLACEHOLDER} from Beijing"),
        ("我叫张伟，想删除账户", f"我叫{NAME_PLACEHOLDER}，想删除账户"),
        ("我的名字是李小龙", f"我的名字是{NAME_PLACEHOLDER}"),
        ("我的名字是 Tom", f"我的名字是 {NAME_PLACEHOLDER}"),
        ("你好，我是王小明。", f"你好，我是{NAME_PLACEHOLDER}。"),
    ],
)
def test_identifying_values_become_placeholders(text, masked):
    assert mask_free_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "Do you sell my data?",
        "I'm Sorry, I don't understand the policy",
        "I'm not sure what you keep",
        "I am Chinese, does PIPL apply?",
        "this is important: who sees my recordings",
        "This is Not what I asked",
        "my name is wrong on my account",
        "Call me maybe",
        "I'm 12, can I use VideoPro?",
        "I corrected it yesterday",  # "cor" + six letters, no digit, not in capitals
        "that's sus really",
        "is two-factor login safer",  # three letters, a dash, six letters: not of the alphabet
        "THE POLICY IS UNCLEAR",
        "a non-profit school",
        "the policy of 2020-11-25 says 15 working days",
        "Version 1.2.3 of 2019 and 2020",
        "a code of 12345 digits",
        "我是否可以删除我的数据？",
        "我是不是需要验证邮箱",
        "我是学生，你们收集什么信息",
        "我是一名用户",
        "我是未成年人",
        "",
    ],
)
def test_ordinary_words_and_numbers_are_kept(text):
    assert mask_free_text(text) == text


def test_everything_at_once():
    text = (
        "Hello, my name is Chen Jing (chen.jing@example.cn, +86 139 1111 2222). "
        "I asked about ACC-4HJ2KP and got code 482913. 我叫李雷。"
    )
    masked = mask_free_text(text)
    assert masked == (
        "Hello, my name is [name] ([e-mail], [phone]). I asked about [reference] "
        "and got code [number]. 我叫[name]。"
    )
    for raw in ("Chen", "Jing", "chen.jing", "139", "4HJ2KP", "482913", "李雷"):
        assert raw not in masked


def test_not_text_is_empty_text():
    assert mask_free_text(None) == ""  # type: ignore[arg-type]


@pytest.mark.parametrize("text", LONG_TEXTS)
def test_long_texts_are_masked_quickly_and_cut(text):
    masked = mask_free_text(text)
    assert len(masked) <= 4000
    assert not re.search(r"\d{6,}", masked)


# -- properties ----------------------------------------------------------------------------------

# Around the value: Latin or Chinese words and punctuation, never a digit or an @, so that what
# is left of the value can be looked for in the result.
CONTEXT = st.text(alphabet="abcdefghij klmnop,.;:!?()我的邮箱电话是谢你好，。", max_size=25)


@FAST
@given(email_addresses(), CONTEXT, CONTEXT)
@example("jane.doe'x@example.com", "from", "ok")
@example("li@example.com", "我的邮箱是", "谢谢")
def test_no_generated_email_address_survives(address, before, after):
    masked = mask_free_text(f"{before} {address} {after}")
    assert address not in masked
    assert "@" not in masked
    assert address.split("@", 1)[1] not in masked
    assert EMAIL_PLACEHOLDER in masked


@FAST
@given(phone_numbers(), CONTEXT, CONTEXT, st.sampled_from(["", " "]))
@example(("138 0013 8000", "13800138000"), "我的电话是", "谢谢", "")
def test_no_generated_phone_number_survives(number, before, after, gap):
    typed, stored = number
    assume(not re.fullmatch(r"\d{4}-\d{2}-\d{2}", typed))  # ISO dates are kept on purpose
    masked = mask_free_text(f"{before}{gap}{typed}{gap}{after}")
    assert typed not in masked
    digits = re.sub(r"\D", "", masked)
    assert stored.lstrip("+") not in digits
    assert not re.search(r"\d{6,}", masked)  # no long run of the number is left either
    assert PHONE_PLACEHOLDER in masked or NUMBER_PLACEHOLDER in masked


@FAST
@given(st.sampled_from(sorted(PREFIXES)), CONTEXT, CONTEXT, st.booleans())
def test_no_generated_reference_survives(kind, before, after, lower):
    reference = new_reference(kind)
    typed = reference.lower() if lower else reference
    masked = mask_free_text(f"{before} {typed} {after}")
    assert typed not in masked and reference[4:] not in masked.upper()
    assert REFERENCE_PLACEHOLDER in masked


@FAST
@given(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3),
    st.text(alphabet=REFERENCE_ALPHABET, min_size=6, max_size=6),
    CONTEXT,
    CONTEXT,
)
def test_a_reference_of_any_prefix_is_masked(prefix, code, before, after):
    """Masking knows the shape of a reference (bot.core.reference_shape), not the prefixes."""
    reference = f"{prefix}-{code}"
    masked = mask_free_text(f"{before} {reference} {after}")
    assert reference not in masked and REFERENCE_PLACEHOLDER in masked


@FAST
@given(st.text(alphabet=REFERENCE_ALPHABET + "0123456789-@.+ ()abc我是叫", max_size=60))
def test_masking_is_idempotent_and_leaves_no_long_digit_run(text):
    once = mask_free_text(text)
    assert mask_free_text(once) == once
    assert not re.search(r"\d{6,}", once)
