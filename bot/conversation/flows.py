"""The request flows: what each form asks, how answers are read, and what is said back.

Kept apart from rasa_sdk so the whole conversation logic can be tested with plain pytest; the
form validation actions in `actions/forms.py` only move values between the tracker and here.
What differs by kind of request (its slots, titles, wording) is read from bot.requests.registry;
what is here is keyed by slot, so a new kind made of the slots below needs nothing here. Every
word said comes from the catalogue of texts (data/texts/, keys `flow.*`, `validation.*` and the
kinds' `request.<kind>.*`), in the conversation's language (`language`, "en" or "zh").

Answers are read the same whatever the conversation's language: "是的" confirms in an English
conversation and "yes" in a Chinese one (a visitor may switch mid-flow, or answer a Chinese
button in English). Chinese answers are read from their normalised form (half-width,
Simplified: bot.core.language.normalise) without punctuation or a trailing particle (好的吧).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from bot.core import texts
from bot.core.language import has_han, normalise
from bot.core.masking import mask_email
from bot.core.texts import DEFAULT_LANGUAGE
from bot.core.words import contains_any, words
from bot.policy.answers import cited_heading, contact_line, quoted, translation_for
from bot.policy.document import Policy
from bot.policy.rights import right_quote
from bot.policy.translation import translate
from bot.requests import validators
from bot.requests.registry import BY_KIND, KINDS, RequestKind, TakesEffectAtOnce

Values = Dict[str, Optional[str]]  # a flow's slots as the tracker holds them

NONE = "none"  # what an optional answer holds when the visitor skips it
VERIFIED = "verified"
UNVERIFIED = "unverified"

# Slots that carry personal data and are cleared from the conversation once a request is stored.
PII_SLOTS = (
    "account_email",
    "correction_value",
    "verification_code",
    "deletion_items",
    "access_items",
    "request_reason",
    "correction_note",
    "status_email",
    "withdraw_email",
    "withdraw_code",
)


# Slots asked only when their scope question was answered "only specific data".
SCOPE_OF_ITEMS = {"deletion_items": "deletion_scope", "access_items": "access_scope"}


@dataclass(frozen=True)
class Flow:
    """A kind of request as a conversation: its registry record, and which questions are open."""

    request: RequestKind

    @property
    def kind(self) -> str:
        return self.request.kind

    @property
    def form(self) -> str:
        return self.request.form

    @property
    def slots(self) -> Tuple[str, ...]:
        """In the order they are asked (conditional ones included)."""
        return self.request.slots

    @property
    def verify(self) -> bool:
        """Needs an e-mailed code before it is stored as verified."""
        return self.request.verify

    def required_slots(self, values: Values) -> List[str]:
        """The slots still to ask, given what is filled: conditional slots only when needed."""
        wanted = []
        for slot in self.slots:
            if slot in SCOPE_OF_ITEMS and values.get(SCOPE_OF_ITEMS[slot]) != "specific":
                continue
            if slot == "verification_code" and (
                not self.verify or values.get("confirm_request") is not True
            ):
                continue
            wanted.append(slot)
        return wanted


FLOWS: Dict[str, Flow] = {record.kind: Flow(record) for record in KINDS}
FLOW_BY_FORM = {flow.form: flow for flow in FLOWS.values()}

CORRECTION_ITEMS = {
    "name": ("name", "full name", "first name", "last name", "surname", "username"),
    "email": ("email", "e-mail", "mail", "email address", "e mail"),
    "phone": ("phone", "mobile", "phone number", "cell", "telephone", "number"),
    "wechat": ("wechat", "weixin", "wechat account", "wechat id"),
    "alipay": ("alipay", "alipay account", "zhifubao"),
    "other": ("other", "something else", "another", "else"),
}


# The same items as Chinese names them (substrings of the normalised answer; the buttons' payloads
# are the zh catalogue's titles: 姓名, 电子邮件地址, 电话号码, 微信账号, 支付宝账号, 其他).
CORRECTION_ITEMS_ZH = {
    "name": ("姓名", "名字", "名称", "用户名", "昵称", "姓氏"),
    "email": ("邮箱", "电子邮件", "邮件地址", "电邮", "email"),
    "phone": ("电话", "手机", "号码", "手机号"),
    "wechat": ("微信", "weixin"),
    "alipay": ("支付宝",),
    "other": ("其他", "其它", "别的"),
}


def correction_label(item: str, language: str = DEFAULT_LANGUAGE) -> str:
    """What the chat calls a correctable item (`CORRECTION_ITEMS`): "phone number"."""
    return texts.text(f"flow.correction_item.{item}", language)


_SKIP = (
    "skip",
    "none",
    "no",
    "nope",
    "nothing",
    "n/a",
    "na",
    "no reason",
    "rather not say",
    "prefer not to say",
    "no comment",
    "no thanks",
    "-",
    "no note",
)
_YES = (
    "yes",
    "y",
    "yeah",
    "yep",
    "sure",
    "ok",
    "okay",
    "correct",
    "confirm",
    "confirmed",
    "right",
    "that's right",
    "go ahead",
    "submit",
    "send it",
    "yes please",
    "do it",
)
_NO = ("no", "n", "nope", "not", "don't", "do not", "wrong", "incorrect", "nah")
_WHOLE = ("whole", "all", "entire", "everything", "account", "complete", "full", "close")
_SPECIFIC = ("specific", "some", "part", "certain", "particular", "only", "just", "selected")
_RESEND = (
    "resend",
    "send again",
    "new code",
    "another code",
    "send it again",
    "didn't get",
    "did not get",
    "not received",
    "haven't received",
    "no code",
    "didn't arrive",
    "hasn't arrived",
    "not arrived",
)
_CANNOT_VERIFY = (
    "can't receive",
    "cannot receive",
    "can not receive",
    "no access",
    "don't have access",
    "lost access",
    "can't access",
    "cannot access",
    "no longer have",
    "not my email anymore",
    "old email",
    "can't get",
    "cannot get",
    "unable to receive",
    "unable to access",
)
# "I'm 12", "I am 13 years old", "I'm under 14", "I am a minor" (an age only when it stands
# alone or as years: "I am 5 minutes late" is not a child).
_MINOR_SELF = re.compile(
    r"\b(?:i\s*(?:'m|am)\s*(?:only\s*)?(?:1[0-7]|[1-9])(?:\s*(?:years?|yrs?)(?:\s*old)?)?"
    r"(?=\s*(?:$|[,.!;?)]|and\b|so\b|but\b|years?\b))"
    r"|i\s*(?:'m|am)\s*under\s*(?:14|16|18|age)\b|i\s*(?:'m|am)\s*(?:a\s*)?(?:minor|child|kid|teen"
    r"|teenager)\b|my\s*age\s*is\s*(?:1[0-7]|[1-9])\b)",
    re.I,
)
_MINOR_GUARDIAN = re.compile(
    r"\b(my\s+(?:\d{1,2}[\s-]*(?:year|yr)[\s-]*old\s+)?(?:son|daughter|child|children|kid|kids"
    r"|boy|girl|ward)(?:'s)?|for\s+my\s+(?:child|son|daughter|kid)|i\s*(?:'m|am)\s*(?:the|his"
    r"|her|their)?\s*(?:legal\s+)?(?:parent|guardian|mother|father|mom|mum|dad)|as\s+(?:a|the|his"
    r"|her)?\s*(?:legal\s+)?(?:parent|guardian))\b",
    re.I,
)


# Chinese answers, compared with the answer's plain form (`plain_zh`).
_SKIP_ZH = frozenset(
    """跳过 略过 不用 不用了 不需要 不必 没有 没有了 无 没
    不想说 不想填 不填 不说 不告诉你 没什么 没啥 没有理由 没有原因 不方便说
    没什么要说的 没有备注 不写 不写了 下一步 pass""".split()
)
_YES_ZH = frozenset(
    """是 是的 是滴 对 对的 对呀 好 好的 好滴 可以 确认 确定 没错
    正确 行 嗯 嗯嗯 同意 提交 确认提交 没问题 对没错 是没错 好提交 可以提交
    确认无误 无误 ok好的 好嘞 就这样""".split()
)
_NO_ZH = frozenset(
    """不 不是 不要 算了 否 不对 不行 错了 不用了 不要了 别 不了
    不确认 不同意 不提交 有错 错 不正确 不是的""".split()
)
# Anywhere in a Chinese answer: it is not a yes (取消/停止/退出: stop, which is a no here too).
_NEGATION_ZH = (
    "不对",
    "不是",
    "不要",
    "不行",
    "不用",
    "不确认",
    "不同意",
    "不提交",
    "不正确",
    "错了",
    "有错",
    "弄错",
    "写错",
    "算了",
    "取消",
    "停止",
    "退出",
    "别提交",
    "否",
)
# Anywhere in a Chinese answer without a negation: a yes ("好的，提交吧", "确认无误").
_YES_CUES_ZH = ("确认", "提交", "没问题", "没错", "正确", "同意")
# "Stop" as the whole answer, in either language: the visitor gives the request up.
_STOP = frozenset(
    (
        "stop",
        "cancel",
        "quit",
        "exit",
        "stop it",
        "cancel it",
        "cancel this",
        "stop this",
        "never mind",
        "forget it",
    )
)
_STOP_ZH = frozenset(
    """停止 停 取消 退出 不办了 不弄了 算了 结束 终止 取消申请
    停止申请 不申请了 不删了""".split()
)
_WHOLE_ZH = ("整个", "全部", "所有", "全都", "一切", "整体", "完整", "注销", "都删", "全删")
_SPECIFIC_ZH = ("特定", "部分", "某些", "某个", "一些", "仅", "只", "个别", "指定", "其中")
_RESEND_ZH = (
    "重新发送",
    "重发",
    "再发",
    "没收到",
    "没有收到",
    "还没收到",
    "未收到",
    "新的验证码",
    "新验证码",
    "换一个验证码",
    "再来一个",
    "没看到验证码",
)
_CANNOT_VERIFY_ZH = (
    "无法接收",
    "不能接收",
    "收不到邮件",
    "收不了邮件",
    "无法访问",
    "不能访问",
    "登不上",
    "登录不了",
    "进不去",
    "邮箱不用了",
    "不再使用",
    "旧邮箱",
    "邮箱没了",
    "没有这个邮箱",
    "邮箱停用",
    "邮箱已停用",
    "邮箱被盗",
    "无法登录",
    "已经不用",
    "不用这个邮箱",
)
# 我才12岁, 我今年十三岁, 我未满14周岁, 我是未成年人, 我还没成年, 我是初中生
_ZH_AGE = r"(?:1[0-7]|[1-9]|十[一二三四五六七]?|[一二三四五六七八九])"
_MINOR_SELF_ZH = re.compile(
    rf"我(?:今年|才|只有|现在|目前)?{_ZH_AGE}(?:周)?岁|我(?:是|还是|还)?(?:一个|一名|个)?"
    r"(?:未成年|没成年|未满(?:14|十四|18|十八)(?:周)?岁|小学生|初中生)"
)
# 我的孩子, 帮我儿子, 我是她的家长, 作为监护人, 替孩子
_MINOR_GUARDIAN_ZH = re.compile(
    r"我(?:的)?(?:孩子|儿子|女儿|小孩|宝宝|闺女)|(?:帮|替|给|为)(?:我)?(?:的)?(?:孩子|儿子|女儿|小孩)"
    r"|我是(?:他|她|孩子|他们)?的?(?:家长|监护人|父亲|母亲|爸爸|妈妈)|作为(?:家长|监护人|父母)"
    r"|监护人身份"
)
# Punctuation, spaces and a trailing particle, removed before a Chinese answer is compared.
_ZH_NOISE = re.compile(r"[\s!-/:-@\[-`{-~。，、；：？！…—·“”‘’「」『』《》（）【】～]+")
_ZH_PARTICLES = "啊呀吧呢哦啦嘛哈噢喔"


def plain_zh(text: str) -> str:
    """A Chinese answer as it is compared: normalised, lower-cased, without punctuation or
    spaces, and without trailing particles ("好的吧！" -> "好的")."""
    plain = _ZH_NOISE.sub("", normalise(text or "")).lower()
    while len(plain) > 1 and plain[-1] in _ZH_PARTICLES:
        plain = plain[:-1]
    return plain


def _contains_zh(text: str, cues: Iterable[str]) -> bool:
    plain = plain_zh(text)
    return bool(plain) and any(cue in plain for cue in cues)


_SKIP_FORMS = {" ".join(words(s)) for s in _SKIP} - {""}
_YES_FORMS = {" ".join(words(s)) for s in _YES}
_NO_FORMS = {" ".join(words(s)) for s in _NO}
_NEGATION = re.compile(
    r"\b(?:no|not|nope|nah|don't|do not|isn't|is not|wasn't|wrong|incorrect"
    r"|cancel)\b"
)


def _straight(text: str) -> str:
    """Typographic apostrophes (phone keyboards type ’) as plain ones, lower-cased."""
    return text.replace("\u2019", "'").replace("\u2018", "'").lower()


def is_skip(text: str) -> bool:
    if has_han(text):
        return plain_zh(text) in _SKIP_ZH
    return " ".join(words(text)) in _SKIP_FORMS or text.strip() in ("-", "－", "无")


def is_stop(text: str) -> bool:
    """The whole answer is "stop" ("cancel", "停止", "取消", "退出", "算了"): the visitor gives the
    request up, whatever NLU made of it."""
    if has_han(text):
        return plain_zh(text) in _STOP_ZH
    return " ".join(words(_straight(text))) in _STOP


def _read_yes_no_zh(text: str) -> Optional[bool]:
    plain = plain_zh(text)
    if plain in _YES_ZH:
        return True
    if plain in _NO_ZH or any(cue in plain for cue in _NEGATION_ZH):
        return False
    if any(
        plain.startswith(form) for form in ("是的", "好的", "对的", "可以", "没错", "确认")
    ) or any(cue in plain for cue in _YES_CUES_ZH):
        return True
    return None


def read_yes_no(text: str, intent: Optional[str]) -> Optional[bool]:
    if intent == "affirm":
        return True
    if intent in ("deny", "stop"):
        return False
    if has_han(text):
        return _read_yes_no_zh(text)
    plain = " ".join(words(text))
    if plain in _YES_FORMS:
        return True
    if plain in _NO_FORMS or _NEGATION.search(_straight(text)):
        return False
    if contains_any(text, ("yes", "correct", "confirm", "right")):
        return True
    return None


def read_scope(text: str) -> Optional[str]:
    """`all` (the whole account / all data) or `specific`, or None when unclear."""
    specific = contains_any(text, _SPECIFIC) or _contains_zh(text, _SPECIFIC_ZH)
    whole = contains_any(text, _WHOLE) or _contains_zh(text, _WHOLE_ZH)
    if specific and not whole:
        return "specific"
    if whole and not specific:
        return "all"
    return None


def read_correction_item(text: str) -> Optional[str]:
    plain = f" {' '.join(words(text))} "
    order = ("wechat", "alipay", "email", "phone", "name", "other")
    if has_han(text):
        for item in order:
            if _contains_zh(text, CORRECTION_ITEMS_ZH[item]):
                return item
    for item in order:
        if any(f" {' '.join(words(cue))} " in plain for cue in CORRECTION_ITEMS[item]):
            return item
    return None


def wants_resend(text: str) -> bool:
    return any(cue in _straight(text) for cue in _RESEND) or _contains_zh(text, _RESEND_ZH)


def cannot_verify(text: str) -> bool:
    return any(cue in _straight(text) for cue in _CANNOT_VERIFY) or _contains_zh(
        text, _CANNOT_VERIFY_ZH
    )


def requester_role(texts: Iterable[str]) -> Optional[str]:
    """`guardian` when someone acts for their child, `minor` when the requester is under 18."""
    role = None
    for text in texts:
        zh = normalise(text or "")
        text = _straight(zh)
        if _MINOR_GUARDIAN.search(text) or _MINOR_GUARDIAN_ZH.search(zh):
            return "guardian"
        if _MINOR_SELF.search(text) or _MINOR_SELF_ZH.search(zh):
            role = "minor"
    return role


def guardian_notice(policy: Policy, role: str, language: str = DEFAULT_LANGUAGE) -> str:
    """What the policy says to minors and guardians, quoted from "Protection of minors" (in
    another language with the reference translation of each sentence)."""
    section = policy.section("minors")
    wanted = (
        ("under the age of 14", "reached the age of 14")
        if role == "minor"
        else ("guardian of a minor", "minors under your custody")
    )
    sentences = [s for s in section.sentences if any(w in s.text for w in wanted)]
    return texts.text(
        f"flow.minor_notice.{'minor' if role == 'minor' else 'guardian'}",
        language,
        heading=cited_heading(policy, section, language),
        quoted=quoted(policy, section, sentences, language),
    )


# -- validation: each returns the stored value or raises validators.Invalid -------------------

# Each validator: (the answer, the conversation's language) -> the value stored, or
# validators.Invalid with what to say, in that language.


def validate_scope(text: str, language: str = DEFAULT_LANGUAGE) -> str:
    scope = read_scope(text)
    if scope is None:
        raise validators.Invalid(texts.text("validation.scope", language))
    return scope


def validate_correction_item(text: str, language: str = DEFAULT_LANGUAGE) -> str:
    item = read_correction_item(text)
    if item is None:
        raise validators.Invalid(texts.text("validation.correction_item", language))
    return item


def validate_optional(text: str, language: str = DEFAULT_LANGUAGE) -> str:
    return NONE if is_skip(text) else validators.free_text(text, language)


def validate_reason(text: str, why: str, language: str = DEFAULT_LANGUAGE) -> str:
    """A reason the kind cannot do without; `why` (its `reason_needed` text) is said when
    skipped."""
    if is_skip(text):
        raise validators.Invalid(why)
    return validators.free_text(text, language)


def read_reason(kind: str, text: str, language: str = DEFAULT_LANGUAGE) -> str:
    """`request_reason` as the kind takes it: required when the registry says so (and why),
    else optional."""
    request = BY_KIND[kind]
    if request.reason_required:
        return validate_reason(text, request.wording("reason_needed", language), language)
    return validate_optional(text, language)


SLOT_VALIDATORS: Dict[str, Callable[[str, str], str]] = {
    "account_email": validators.email,
    "deletion_scope": validate_scope,
    "access_scope": validate_scope,
    "deletion_items": validators.free_text,
    "access_items": validators.free_text,
    "correction_item": validate_correction_item,
    "correction_note": validate_optional,
}


def slot_purpose(slot: str, language: str = DEFAULT_LANGUAGE) -> str:
    """What a slot is for (`flow.slot_purpose.<slot>`), said when a visitor has answered twice
    with something unusable."""
    return texts.text(f"flow.slot_purpose.{slot}", language)


def explain(slot: str, language: str = DEFAULT_LANGUAGE) -> str:
    return texts.text("flow.explain_again", language, purpose=slot_purpose(slot, language))


# The scope questions: the summary says "all" in words (`flow.summary.whole.<scope slot>`) and
# shows the specific items as typed.
ITEMS_OF_SCOPE = {scope: items for items, scope in SCOPE_OF_ITEMS.items()}
# The slots whose summary line shows the answer as given (`flow.summary.answer.<slot>`).
SUMMARY_LINES = ("account_email", "request_reason", "correction_value", "correction_note")


def _summary_line(
    request: RequestKind, slot: str, values: Values, language: str = DEFAULT_LANGUAGE
) -> Optional[str]:
    """One slot's line of the summary, or None: the items are shown with their scope, skipped
    optional answers, the yes and the code not at all."""
    value = values.get(slot)
    skipped = value in (None, NONE)
    if slot in ITEMS_OF_SCOPE:
        what = (
            texts.text(f"flow.summary.whole.{slot}", language)
            if value == "all"
            else values.get(ITEMS_OF_SCOPE[slot])
        )
        return texts.text("flow.summary.what", language, what=what)
    if slot == "request_reason" and skipped and not request.reason_required:
        return None
    if slot == "correction_note" and skipped:
        return None
    if slot == "correction_item":
        label = correction_label(value, language) if value in CORRECTION_ITEMS else ""
        return texts.text("flow.summary.correction_item", language, label=label)
    if slot in SUMMARY_LINES:
        return texts.text(f"flow.summary.answer.{slot}", language, value=value)
    return None


def summary(
    kind: str, values: Values, role: Optional[str], language: str = DEFAULT_LANGUAGE
) -> str:
    """The summary shown before the explicit confirmation: a line per answer, in the order
    the form asked them."""
    request = BY_KIND[kind]
    lines = [
        texts.text(
            "flow.summary.request", language, title=request.wording("summary_title", language)
        )
    ]
    lines += [
        line
        for line in (_summary_line(request, slot, values, language) for slot in request.slots)
        if line is not None
    ]
    if role:
        lines.append(
            texts.text(
                f"flow.summary.made_by.{'minor' if role == 'minor' else 'guardian'}", language
            )
        )
    return "\n".join(lines)


def confirmation_prompt(
    kind: str, values: Values, role: Optional[str], language: str = DEFAULT_LANGUAGE
) -> str:
    after = texts.text(
        "flow.confirm.after_verify" if FLOWS[kind].verify else "flow.confirm.after_at_once",
        language,
    )
    return texts.text(
        "flow.confirm.text", language, summary=summary(kind, values, role, language), after=after
    )


def confirmation_buttons(language: str = DEFAULT_LANGUAGE) -> List[Dict[str, str]]:
    """ "Yes, submit it" and "No, stop" under the summary."""
    return texts.buttons("flow.confirm.buttons", language)


def code_sent_prompt(email: str, language: str = DEFAULT_LANGUAGE) -> str:
    return texts.text("flow.code.sent", language, email=mask_email(email))


def wrong_code(attempts_left: int, language: str = DEFAULT_LANGUAGE) -> str:
    """A wrong code, and how many tries are left."""
    return texts.text(
        "flow.code.wrong.one" if attempts_left == 1 else "flow.code.wrong.other",
        language,
        attempts=attempts_left,
    )


def wait_phrase(wait: timedelta, language: str = DEFAULT_LANGUAGE) -> str:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    if minutes < 90:
        return texts.text(
            "flow.wait.minute" if minutes == 1 else "flow.wait.minutes", language, minutes=minutes
        )
    return texts.text("flow.wait.hours", language, hours=math.ceil(minutes / 60))


def too_many_codes(wait: timedelta, language: str = DEFAULT_LANGUAGE) -> str:
    return texts.text("flow.too_many_codes", language, wait=wait_phrase(wait, language))


def too_many_requests(wait: timedelta, language: str = DEFAULT_LANGUAGE) -> str:
    return texts.text("flow.too_many_requests", language, wait=wait_phrase(wait, language))


def due_date(due_at: datetime, language: str = DEFAULT_LANGUAGE) -> str:
    """A due date as the chat and the e-mails write it (`format.date`)."""
    return texts.text("format.date", language, date=due_at)


def status_reply(
    reference: str, kind: str, status: str, due_at: datetime, language: str = DEFAULT_LANGUAGE
) -> str:
    """The answer to "what is the status of DEL-7K3M9Q?" once reference and e-mail match."""
    return texts.text(
        "flow.status.answer",
        language,
        reference=reference,
        kind=BY_KIND[kind].wording("name", language),
        status=texts.text(f"flow.status_name.{status}", language),
        due=due_date(due_at, language),
    )


# Where the request row's `details` keeps an answer (the scope questions: see `_detail`).
DETAIL_KEYS = {
    "correction_item": "item",
    "correction_value": "new_value",
    "correction_note": "note",
}
OPTIONAL_DETAILS = ("correction_note",)  # left out of `details` when skipped


def _detail(slot: str, values: Values) -> Dict[str, str]:
    """What one answer adds to `details`: a scope with its items, or the answer under its key."""
    value = values.get(slot)
    if slot in ITEMS_OF_SCOPE:
        return (
            {"scope": "specific", "items": values.get(ITEMS_OF_SCOPE[slot]) or ""}
            if value == "specific"
            else {"scope": "all"}
        )
    if slot not in DETAIL_KEYS or (slot in OPTIONAL_DETAILS and value in (None, NONE)):
        return {}
    return {DETAIL_KEYS[slot]: value or ""}


def details_for(kind: str, values: Values) -> Dict[str, str]:
    """What the request row keeps in `details`, from the kind's answers in the order asked."""
    details: Dict[str, str] = {}
    for slot in BY_KIND[kind].slots:
        details.update(_detail(slot, values))
    return details


def reason_for(kind: str, values: Values) -> Optional[str]:
    """The reason column: only for a kind whose form asks one, and not when it was skipped."""
    reason = values.get("request_reason")
    asked = "request_reason" in BY_KIND[kind].slots
    return None if reason in (None, NONE) or not asked else reason


def submitted_message(
    policy: Policy,
    kind: str,
    reference: str,
    due_at: datetime,
    status: str,
    duplicate: bool,
    working_days: int,
    language: str = DEFAULT_LANGUAGE,
) -> str:
    request = BY_KIND[kind]
    due = due_date(due_at, language)
    name = request.wording("name", language)
    if duplicate:
        return texts.text(
            "flow.submitted.duplicate", language, kind=name, reference=reference, due=due
        )
    if request.at_once:
        return request.wording("done_reply", language, reference=reference) + _notice(
            policy, request.at_once, language
        )
    said = texts.text(
        "flow.submitted.stored",
        language,
        kind=name,
        reference=reference,
        due=due,
        working_days=working_days,
    )
    if status == UNVERIFIED:
        said += "\n\n" + texts.text(
            "flow.submitted.unverified", language, contact=contact_line(policy, language)
        )
    return said


def _notice(policy: Policy, at_once: TakesEffectAtOnce, language: str = DEFAULT_LANGUAGE) -> str:
    """The policy sentence a request that takes effect at once is followed by, if any: what
    it cannot do (service announcements cannot be unsubscribed from). Quoted in English; in
    another language its reference translation follows, labelled as one."""
    if not at_once.notice_section:
        return ""
    section = policy.section(at_once.notice_section)
    sentence = next(s for s in section.sentences if at_once.notice_words in s.text)
    said = "\n\n" + texts.text(
        "flow.submitted.notice",
        language,
        heading=cited_heading(policy, section, language),
        sentence=sentence.text,
    )
    translation = translation_for(policy, language)
    found = translate(policy, translation, section, sentence) if translation else None
    if translation and found:
        said += "\n" + texts.text(
            "flow.submitted.notice_translation",
            language,
            label=translation.label,
            translation=found,
        )
    return said


def intro(policy: Policy, kind: str, language: str = DEFAULT_LANGUAGE) -> str:
    """How a flow opens: the policy's own words on the right, then what will happen."""
    request = BY_KIND[kind]
    then = texts.text(
        "flow.intro.then_verify" if request.verify else "flow.intro.then_at_once", language
    )
    return texts.text(
        "flow.intro.text",
        language,
        right=right_quote(policy, request, language),
        steps=request.wording("steps", language),
        then=then,
    )


def account_email_question(kind: Optional[str], language: str = DEFAULT_LANGUAGE) -> str:
    """How the address is asked for: each kind may word it its own way (its `email_question`
    text)."""
    request = BY_KIND.get(kind or "")
    if request and request.has_wording("email_question", language):
        return request.wording("email_question", language)
    return texts.text("flow.account_email_question", language)


# The slots asked with fixed wording (`flow.question.<slot>`: its text and its buttons, whose
# payloads are plain words, read like anything the visitor types).
QUESTION_SLOTS = (
    "deletion_scope",
    "deletion_items",
    "request_reason",
    "correction_item",
    "correction_note",
    "access_scope",
    "access_items",
    "status_reference",
    "status_email",
    "withdraw_reference",
    "withdraw_email",
)


def question(
    slot: str, kind: Optional[str], language: str = DEFAULT_LANGUAGE
) -> Tuple[str, Tuple[Tuple[str, str], ...]]:
    """The fixed question for a slot in the active flow, as (text, buttons as (title, payload)
    pairs): a kind that requires a reason asks for it in its own words, without a "Skip"
    button."""
    if slot not in QUESTION_SLOTS:
        raise KeyError(slot)
    request = BY_KIND.get(kind or "")
    if slot == "request_reason" and request and request.reason_required:
        return request.wording("reason_question", language), ()
    buttons = texts.buttons(f"flow.question.{slot}.buttons", language)
    return (
        texts.text(f"flow.question.{slot}.text", language),
        tuple((b["title"], b["payload"]) for b in buttons),
    )
