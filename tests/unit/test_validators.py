"""The form validators: what they accept, the form they store, and what they say when they
refuse."""

import unicodedata

import pytest

from bot.requests import validators
from bot.requests.validators import Invalid


def assert_friendly(error: Invalid) -> None:
    """The message is said to the visitor as it is: one or more plain sentences, no internals."""
    message = str(error)
    assert message[0].isupper(), message
    assert message.rstrip().endswith((".", "?")), message
    assert "\n" not in message and "Traceback" not in message and "None" not in message
    assert len(message.split()) >= 3, message


def refused(validator, text, **kwargs) -> str:
    with pytest.raises(Invalid) as info:
        validator(text, **kwargs)
    assert_friendly(info.value)
    return str(info.value)


def test_invalid_is_a_value_error():
    assert issubclass(Invalid, ValueError)


# -- e-mail -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, stored",
    [
        ("jane.doe@example.com", "jane.doe@example.com"),
        ("Jane.Doe@Example.COM", "jane.doe@example.com"),
        ("  jane@example.com \n", "jane@example.com"),
        ("<jane@example.com>", "jane@example.com"),
        (" < Jane@Example.com > ", "jane@example.com"),
        ("jane+privacy@mail.example.co.uk", "jane+privacy@mail.example.co.uk"),
        ("o'brien_1@sub-domain.example.cn", "o'brien_1@sub-domain.example.cn"),
        ("a@b.io", "a@b.io"),
    ],
)
def test_email_accepts_and_lower_cases(text, stored):
    assert validators.email(text) == stored


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "jane",
        "jane@",
        "@example.com",
        "jane@example",
        "jane@@example.com",
        "jane doe@example.com",
        "jane..doe@example.com",
        ".jane@example.com",
        "jane.@example.com",
        "jane@-example.com",
        "jane@example-.com",
        "jane@example.c",
        "jane@example.123",
        "jane@exa_mple.com",
        "jane@" + "a" * 64 + ".com",
        "a" * 65 + "@example.com",
    ],
)
def test_email_refuses_with_an_example(text):
    message = refused(validators.email, text)
    assert "name@example.com" in message


def test_email_length_limits_are_inclusive():
    local = "a" * 64
    assert validators.email(f"{local}@example.com") == f"{local}@example.com"
    labels = ".".join(["a" * 63] * 3)
    longest = f"j@{labels}.{'b' * 56}.com"
    assert len(longest) == 254
    assert validators.email(longest) == longest
    refused(validators.email, f"j@{labels}.{'b' * 57}.com")


# -- phone ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, stored",
    [
        ("+86 138 0013 8000", "+8613800138000"),
        ("+86-138-0013-8000", "+8613800138000"),
        ("13800138000", "13800138000"),
        ("138.0013.8000", "13800138000"),
        ("(010) 6552-9988", "01065529988"),
        (" +1 (555) 010-9999 ", "+15550109999"),
        ("1234567", "1234567"),  # 7 digits, the shortest
        ("+123456789012345", "+123456789012345"),  # 15 digits, the longest
    ],
)
def test_phone_keeps_plus_and_digits_only(text, stored):
    assert validators.phone(text) == stored


@pytest.mark.parametrize(
    "text",
    [
        "",
        "+",
        "138 0013 80OO",
        "call 13800138000",
        "86+13800138000",
        "++8613800138000",
        "138/0013/8000",
        "#13800138000",
    ],
)
def test_phone_refuses_other_characters(text):
    message = refused(validators.phone, text)
    assert "+86 138 0013 8000" in message


@pytest.mark.parametrize(
    "text", ["123456", "+86 1234", "---", "1234567890123456", "+86 138 0013 8000 0000"]
)
def test_phone_refuses_too_few_or_too_many_digits(text):
    message = refused(validators.phone, text)
    assert "7 to 15 digits" in message


def test_phone_stores_full_width_digits_as_ascii():
    assert validators.phone("+８６ １３８ ００１３ ８０００") == "+8613800138000"


# -- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, stored",
    [
        ("张伟", "张伟"),
        ("欧阳 娜娜", "欧阳 娜娜"),
        ("玛丽·简", "玛丽·简"),  # middle dot of transliterated names
        ("Jean-Luc Picard", "Jean-Luc Picard"),
        ("O'Brien", "O'Brien"),
        ("J. R. R. Tolkien", "J. R. R. Tolkien"),
        ("  Anne-Marie \t  d'Arc  ", "Anne-Marie d'Arc"),
        ("José Núñez", "José Núñez"),
        ("Иван Петров", "Иван Петров"),
        ("さとう はなこ", "さとう はなこ"),
        ("김민준", "김민준"),
        ("A", "A"),
    ],
)
def test_person_name_accepts_letters_of_any_script(text, stored):
    assert validators.person_name(text) == stored


def test_person_name_of_100_characters_is_accepted_101_is_not():
    assert validators.person_name("A" * 100) == "A" * 100
    refused(validators.person_name, "A" * 101)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "R2D2",
        "Jane 2",
        "-Anne",
        "'Bob",
        ".Li",
        "Anne_Marie",
        "Bob!",
        "jane@example.com",
        "张伟3",
        "·玛丽",
    ],
)
def test_person_name_refuses_digits_and_symbols(text):
    message = refused(validators.person_name, text)
    assert "no digits" in message


@pytest.mark.parametrize("text", ["प्रिया शर्मा", "Jose\u0301"])
def test_person_name_accepts_scripts_with_combining_marks(text):
    assert validators.person_name(text) == unicodedata.normalize("NFC", text)


# -- WeChat -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, stored",
    [
        ("jane_doe", "jane_doe"),
        ("JaneDoe-88", "JaneDoe-88"),
        ("wxid_a1", "wxid_a1"),
        ("  abcdef  ", "abcdef"),  # 6 characters, the shortest
        ("a" + "1" * 19, "a" + "1" * 19),  # 20 characters, the longest
    ],
)
def test_wechat_id_accepted(text, stored):
    assert validators.wechat_id(text) == stored


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abcde",
        "a" * 21,
        "1abcdef",
        "_abcdef",
        "jane.doe",
        "jane doe",
        "张伟伟伟伟伟",
        "+8613800138000",
    ],
)
def test_wechat_id_refused(text):
    message = refused(validators.wechat_id, text)
    assert "6 to 20 characters" in message


# -- Alipay -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, stored",
    [
        ("Jane.Doe@Example.com", "jane.doe@example.com"),
        (" +86 138 0013 8000 ", "+8613800138000"),
        ("13800138000", "13800138000"),
    ],
)
def test_alipay_account_is_an_email_or_a_phone(text, stored):
    assert validators.alipay_account(text) == stored


@pytest.mark.parametrize(
    "text", ["", "jane@", "jane@example", "jane_doe", "12345", "+86 138 0013 800O"]
)
def test_alipay_account_refused_with_its_own_message(text):
    message = refused(validators.alipay_account, text)
    assert "Alipay" in message
    assert "name@example.com" in message and "+86 138 0013 8000" in message


# -- free text --------------------------------------------------------------------------------


def test_free_text_collapses_whitespace():
    assert validators.free_text("  my   old\nphotos \t please ") == "my old photos please"


def test_free_text_limit_counts_the_collapsed_text():
    assert validators.free_text("x" * 500) == "x" * 500
    assert validators.free_text("  " + "x" * 500 + "   \n") == "x" * 500
    message = refused(validators.free_text, "x" * 501)
    assert "500 characters" in message


def test_free_text_custom_limit():
    assert validators.free_text("abcde", limit=5) == "abcde"
    message = refused(validators.free_text, "abcdef", limit=5)
    assert "5 characters" in message


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_free_text_refuses_blank(text):
    assert refused(validators.free_text, text) == "Please write a few words."


# -- verification code ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["123456", " 123456 ", "123 456", "12 34 56", "123-456", "\t123456\n", "1 2 3 4 5 6"]
)
def test_verification_code_ignores_spaces_and_dashes(text):
    assert validators.verification_code(text) == "123456"


def test_verification_code_keeps_leading_zeros():
    assert validators.verification_code("000 042") == "000042"


@pytest.mark.parametrize(
    "text", ["", "12345", "1234567", "12345a", "abcdef", "123.456", "code 123456"]
)
def test_verification_code_refused(text):
    message = refused(validators.verification_code, text)
    assert "6 digits" in message


def test_verification_code_full_width_digits_become_ascii():
    assert validators.verification_code("１２３４５６") == "123456"


# -- reference --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, stored",
    [
        ("DEL-7K3M9Q", "DEL-7K3M9Q"),
        ("del-7k3m9q", "DEL-7K3M9Q"),
        (" cor 7k3m9q ", "COR-7K3M9Q"),
        ("ACC7K3M9Q", "ACC-7K3M9Q"),
        ("sus_7k3m9q", "SUS-7K3M9Q"),
        ("UNS–7K3M9Q", "UNS-7K3M9Q"),
        ("DEL-7K3M9O", "DEL-7K3M90"),  # O read as 0
        ("del-ilouab", "DEL-110VAB"),  # I, L -> 1; O -> 0; U -> V
    ],
)
def test_reference_normalised(text, stored):
    assert validators.reference(text) == stored


@pytest.mark.parametrize(
    "text", ["", "DEL", "DEL-7K3M9", "DEL-7K3M9QQ", "XYZ-7K3M9Q", "DEL-7K3M9!", "7K3M9Q"]
)
def test_reference_refused(text):
    message = refused(validators.reference, text)
    assert "DEL-7K3M9Q" in message


# -- what can be corrected --------------------------------------------------------------------


def test_correctable_items_use_the_matching_validator():
    assert validators.CORRECTABLE == {
        "name": validators.person_name,
        "email": validators.email,
        "phone": validators.phone,
        "wechat": validators.wechat_id,
        "alipay": validators.alipay_account,
        "other": validators.free_text,
    }
