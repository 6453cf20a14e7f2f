"""Evaluation against the running assistant: each item is one new conversation.

The reply comes from the REST channel (what a visitor sees) and the latest intent and active form
from the HTTP API's tracker, so the figure measures the whole assistant, not the NLU model alone.
Besides accuracy it counts the replies that are *confidently wrong*: they cite a section the item
does not allow, which for a legal assistant is worse than saying the policy is silent. And since
the tracker keeps what NLU found for each message, the router's thresholds can be replayed over the
same replies: the trade-off table shows accuracy against how often the assistant abstains.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

import httpx
import yaml

from bot.conversation.policy_reply import support
from bot.conversation.request_intent import STATUS, WITHDRAW
from bot.conversation.routing import (
    CLOSEST,
    DIRECT,
    NOT_COVERED,
    Reading,
    Thresholds,
    decide,
    is_routed,
    load_thresholds,
)
from bot.core.settings import Settings, load_settings
from bot.policy.coverage import load_coverage
from bot.policy.document import Policy, load_policy
from bot.requests.registry import BY_INTENT

OUT_OF_SCOPE_INTENTS = ("out_of_scope", "nlu_fallback")


@dataclass(frozen=True)
class Observation:
    """What the assistant did with one message."""

    reply: str
    intent: Optional[str]
    active_form: Optional[str]
    parse: Dict = field(default_factory=dict, compare=False)  # the tracker's latest_message
    kind: Optional[str] = None  # the reply kind a policy answer declared (direct, closest, ...)


@dataclass(frozen=True)
class Outcome:
    text: str
    expect: str
    category: str
    passed: bool
    reply: str
    intent: Optional[str]
    active_form: Optional[str]
    confidently_wrong: bool = False
    kind: Optional[str] = None
    parse: Dict = field(default_factory=dict, compare=False, repr=False)


# How a reply says the policy is silent, in each language (dev_questions_zh.yml: "政策没有").
NOT_COVERED_MARKERS = ("the policy does not", "政策没有")


def load_items(path: Path) -> List[Dict[str, str]]:
    with open(path, encoding="utf-8") as handle:
        items = yaml.safe_load(handle) or []
    for item in items:
        if not isinstance(item, dict) or "text" not in item or "expect" not in item:
            raise ValueError(f"{path}: every item needs 'text' and 'expect': {item!r}")
    return items


def category_of(expect: str) -> str:
    """`section:security|intent:x` -> `section` (the kind of the first alternative)."""
    return expect.split("|")[0].split(":")[0].strip()


def form_of(intent: str) -> Optional[str]:
    """The form that serves a request intent (bot.requests.registry): request_deletion ->
    deletion_form; None for an intent that starts no request."""
    record = BY_INTENT.get(intent)
    return record.form if record is not None else None


def cited_sections(policy: Policy, reply: str) -> List[str]:
    return [s.id for s in policy.sections if s.heading in reply]


def meets(policy: Policy, alternative: str, seen: Observation) -> bool:
    kind, _, value = alternative.strip().partition(":")
    if kind == "section":
        return policy.section(value).heading in seen.reply
    if kind == "intent":
        return seen.intent == value or (
            seen.active_form is not None and seen.active_form == form_of(value)
        )
    if kind == "not_covered":
        return any(marker in seen.reply.lower() for marker in NOT_COVERED_MARKERS)
    if kind == "out_of_scope":
        return seen.intent in OUT_OF_SCOPE_INTENTS and not cited_sections(policy, seen.reply)
    raise ValueError(f"unknown expectation {alternative!r}")


def judge(policy: Policy, expect: str, seen: Observation) -> bool:
    return any(meets(policy, alternative, seen) for alternative in expect.split("|"))


def allowed_sections(expect: str) -> List[str]:
    return [
        a.strip().split(":", 1)[1] for a in expect.split("|") if a.strip().startswith("section:")
    ]


def cites_disallowed(policy: Policy, expect: str, reply: str) -> bool:
    allowed = set(allowed_sections(expect))
    return any(section not in allowed for section in cited_sections(policy, reply))


def confidently_wrong(policy: Policy, expect: str, seen: Observation) -> bool:
    """A wrong reply that quotes a section the item does not allow: worse than "the policy does
    not say". (A request flow that opens by quoting the policy on that right is not wrong.)"""
    return not judge(policy, expect, seen) and cites_disallowed(policy, expect, seen.reply)


class LiveAssistant:
    """The assistant as a visitor and the HTTP API see it."""

    def __init__(self, settings: Settings, client: Optional[httpx.Client] = None) -> None:
        self.settings = settings
        self.client = client or httpx.Client(timeout=60)

    def ask(self, text: str, sender: Optional[str] = None) -> Observation:
        sender = sender or f"eval-{uuid.uuid4().hex}"
        response = self.client.post(
            f"{self.settings.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": text},
        )
        response.raise_for_status()
        reply = "\n".join(m.get("text", "") for m in response.json() if m.get("text"))
        tracker = self.client.get(
            f"{self.settings.rasa_url}/conversations/{sender}/tracker",
            params={"token": self.settings.rasa_api_token},
        )
        tracker.raise_for_status()
        state = tracker.json()
        parse = state.get("latest_message") or {}
        intent = (parse.get("intent") or {}).get("name")
        active_form = (state.get("active_loop") or {}).get("name")
        kinds = [
            (m.get("custom") or {}).get("answer", {}).get("kind")
            for m in response.json()
            if isinstance(m.get("custom"), dict)
        ]
        return Observation(
            reply=reply,
            intent=intent,
            active_form=active_form,
            parse=parse,
            kind=next((k for k in kinds if k), None),
        )


def evaluate(
    items: Iterable[Dict[str, str]], assistant: LiveAssistant, policy: Optional[Policy] = None
) -> List[Outcome]:
    policy = policy or load_policy()
    outcomes = []
    for item in items:
        seen = assistant.ask(item["text"])
        outcomes.append(
            Outcome(
                text=item["text"],
                expect=item["expect"],
                category=category_of(item["expect"]),
                passed=judge(policy, item["expect"], seen),
                reply=seen.reply,
                intent=seen.intent,
                active_form=seen.active_form,
                confidently_wrong=confidently_wrong(policy, item["expect"], seen),
                kind=seen.kind,
                parse=seen.parse,
            )
        )
    return outcomes


def _kinds_of(expect: str) -> Set[str]:
    return {a.strip().partition(":")[0] for a in expect.split("|")}


def addressed_only(expect: str) -> bool:
    """The policy addresses the item: a section will do, "the policy does not say" will not."""
    kinds = _kinds_of(expect)
    return "section" in kinds and "not_covered" not in kinds


def silent_only(expect: str) -> bool:
    """The policy is silent on the item: "the policy does not say" will do, no section will."""
    kinds = _kinds_of(expect)
    return "not_covered" in kinds and "section" not in kinds


def says_silent(policy: Policy, outcome: Outcome) -> bool:
    """The reply says the policy does not cover the question and quotes nothing from it (the
    kind the answer declared; for a reply without one, its words)."""
    if outcome.kind is not None:
        return outcome.kind == NOT_COVERED
    said = any(marker in outcome.reply.lower() for marker in NOT_COVERED_MARKERS)
    return said and not cited_sections(policy, outcome.reply)


def answers_with_section(policy: Policy, outcome: Outcome) -> bool:
    """The reply quotes a section as the answer: a direct answer, or (without a declared kind)
    a reply that cites a heading and does not say the policy is silent. "The closest the
    policy comes" says so, and is neither."""
    if outcome.kind is not None:
        return outcome.kind == DIRECT
    said = any(marker in outcome.reply.lower() for marker in NOT_COVERED_MARKERS)
    return bool(cited_sections(policy, outcome.reply)) and not said


@dataclass(frozen=True)
class Silence:
    """How a file's items fared on whether the policy addresses them."""

    addressed: int  # items only a section answers
    called_silent: int  # ... that got "the policy does not say"
    silent: int  # items only "the policy does not say" answers
    answered: int  # ... that got a section as the answer

    def lines(self) -> List[str]:
        def share(part: int, whole: int) -> str:
            return f"{part / whole:.1%}" if whole else "-"

        return [
            f"addressed by the policy, answered as not covered: {self.called_silent} of "
            f"{self.addressed} = {share(self.called_silent, self.addressed)}",
            f"silent in the policy, answered with a section: {self.answered} of "
            f"{self.silent} = {share(self.answered, self.silent)}",
        ]


def silence_counts(policy: Policy, outcomes: Sequence[Outcome]) -> Silence:
    addressed = [o for o in outcomes if addressed_only(o.expect)]
    silent = [o for o in outcomes if silent_only(o.expect)]
    return Silence(
        len(addressed),
        sum(says_silent(policy, o) for o in addressed),
        len(silent),
        sum(answers_with_section(policy, o) for o in silent),
    )


# A request already made: its status lookup and its withdrawal, as intents and as forms.
MADE_REQUEST_INTENTS = (STATUS, WITHDRAW)
MADE_REQUEST_FORMS = ("status_form", "withdraw_form")


def asks_for_new_request(expect: str) -> bool:
    """Every alternative of the item is a new request (a kind's intent)."""
    alternatives = [a.strip() for a in expect.split("|")]
    return all(a.startswith("intent:") and a.partition(":")[2] in BY_INTENT for a in alternatives)


def new_requests_into_made(outcomes: Sequence[Outcome]) -> Tuple[int, int]:
    """(new-request items that started a status lookup or a withdrawal, new-request items)."""
    new = [o for o in outcomes if asks_for_new_request(o.expect)]
    wrong = sum(
        o.intent in MADE_REQUEST_INTENTS or o.active_form in MADE_REQUEST_FORMS for o in new
    )
    return wrong, len(new)


def accuracy(outcomes: List[Outcome]) -> float:
    return sum(o.passed for o in outcomes) / len(outcomes) if outcomes else 0.0


def report(outcomes: List[Outcome], policy: Optional[Policy] = None) -> str:
    by_category: Dict[str, List[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_category[outcome.category].append(outcome)
    lines = [f"{'category':<14} {'correct':>7} {'total':>5} {'accuracy':>8}"]
    for category in sorted(by_category):
        group = by_category[category]
        lines.append(
            f"{category:<14} {sum(o.passed for o in group):>7} {len(group):>5} "
            f"{accuracy(group):>8.1%}"
        )
    lines.append(
        f"{'overall':<14} {sum(o.passed for o in outcomes):>7} {len(outcomes):>5} "
        f"{accuracy(outcomes):>8.1%}"
    )
    wrong = sum(o.confidently_wrong for o in outcomes)
    lines.append(
        f"confidently wrong (wrong, and quotes a section the item does not allow): "
        f"{wrong} of {len(outcomes)} = {wrong / len(outcomes) if outcomes else 0:.1%}"
    )
    kinds: Dict[str, int] = defaultdict(int)
    for o in outcomes:
        kinds[o.kind or "other"] += 1
    lines.append("reply kinds: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    lines += silence_counts(policy or load_policy(), outcomes).lines()
    into_made, new = new_requests_into_made(outcomes)
    if new:
        lines.append(
            f"new requests that started a status lookup or a withdrawal: {into_made} of {new}"
        )
    failures = [o for o in outcomes if not o.passed]
    if failures:
        lines.append("\nfailed:")
        for o in failures:
            first_line = o.reply.splitlines()[0] if o.reply else "(no reply)"
            lines.append(
                f"- {o.text!r} expected {o.expect}; intent={o.intent} "
                f"form={o.active_form}; reply: {first_line[:100]}"
            )
    return "\n".join(lines)


TRADEOFF_GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def replay(policy: Policy, outcome: Outcome, thresholds: Thresholds) -> Tuple[bool, bool, bool]:
    """(passed, confidently wrong, abstained) had the router used ``thresholds``. Replies the
    router does not make (request flows, small talk) count as they were."""
    if not is_routed(outcome.intent) or not outcome.parse:
        return outcome.passed, outcome.confidently_wrong, outcome.kind in (CLOSEST, NOT_COVERED)
    reading = Reading.from_parse(outcome.parse)
    decision = decide(
        reading, load_coverage(), thresholds, policy.section_ids, support(policy, reading)
    )
    shown = [policy.section(s).heading for s in decision.sections]
    if decision.abstains:
        shown.append("the policy does not")
    seen = Observation("\n".join(shown), outcome.intent, outcome.active_form)
    return (
        judge(policy, outcome.expect, seen),
        confidently_wrong(policy, outcome.expect, seen),
        decision.abstains,
    )


def tradeoff(
    policy: Policy, outcomes: Sequence[Outcome], calibrated: Optional[Thresholds] = None
) -> str:
    """Accuracy, confidently wrong and abstention had the direct-answer threshold been each of
    the grid's values, replayed over the same NLU results."""
    calibrated = calibrated or load_thresholds()
    lines = [f"{'direct >=':>9} {'accuracy':>9} {'conf. wrong':>11} {'abstains':>9}"]
    grid = sorted(set(TRADEOFF_GRID) | {calibrated.direct})
    for threshold in grid:
        variant = replace(calibrated, direct=threshold, closest=min(calibrated.closest, threshold))
        results = [replay(policy, o, variant) for o in outcomes]
        n = len(results) or 1
        mark = "  <- calibrated" if threshold == calibrated.direct else ""
        lines.append(
            f"{threshold:>9.2f} {sum(r[0] for r in results) / n:>9.1%} "
            f"{sum(r[1] for r in results) / n:>11.1%} "
            f"{sum(r[2] for r in results) / n:>9.1%}{mark}"
        )
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot eval", description=__doc__)
    parser.add_argument(
        "files", type=Path, nargs="+", metavar="file", help="evaluation items (text + expect), YAML"
    )
    parser.add_argument(
        "--min-accuracy",
        type=float,
        default=0.0,
        help="exit 1 when overall accuracy is below this (0-1)",
    )
    parser.add_argument("--json", type=Path, help="also write every outcome to this file")
    args = parser.parse_args(argv)
    settings = load_settings()
    policy = load_policy()
    assistant = LiveAssistant(settings)
    every: Dict[str, List[Outcome]] = {}
    for path in args.files:
        try:
            outcomes = evaluate(load_items(path), assistant, policy)
        except httpx.HTTPError as error:
            print(
                f"The assistant at {settings.rasa_url} did not answer ({error}). "
                "Start it with `make run` first.",
                file=sys.stderr,
            )
            return 2
        every[str(path)] = outcomes
        print(f"== {path.name} ({len(outcomes)} items)")
        print(report(outcomes, policy))
        print("\ntrade-off, replayed over the same NLU results:")
        print(tradeoff(policy, outcomes))
        print()
    if args.json:
        args.json.write_text(
            json.dumps(
                {name: [asdict(o) for o in outcomes] for name, outcomes in every.items()}, indent=2
            ),
            encoding="utf-8",
        )
    return 0 if all(accuracy(o) >= args.min_accuracy for o in every.values()) else 1
