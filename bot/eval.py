"""Evaluation against the running assistant: each item is one new conversation.

The reply comes from the REST channel (what a visitor sees) and the latest intent and active form
from the HTTP API's tracker, so the figure measures the whole assistant, not the NLU model alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional

import httpx
import yaml

from bot.policy import Policy, load_policy
from bot.settings import Settings, load_settings

OUT_OF_SCOPE_INTENTS = ("out_of_scope", "nlu_fallback")


@dataclass(frozen=True)
class Observation:
    """What the assistant did with one message."""

    reply: str
    intent: Optional[str]
    active_form: Optional[str]


@dataclass(frozen=True)
class Outcome:
    text: str
    expect: str
    category: str
    passed: bool
    reply: str
    intent: Optional[str]
    active_form: Optional[str]


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


def form_of(intent: str) -> str:
    """The form that serves a request intent: request_deletion -> deletion_form."""
    return f"{intent[len('request_'):]}_form" if intent.startswith("request_") else f"{intent}_form"


def cited_sections(policy: Policy, reply: str) -> List[str]:
    return [s.id for s in policy.sections if s.heading in reply]


def meets(policy: Policy, alternative: str, seen: Observation) -> bool:
    kind, _, value = alternative.strip().partition(":")
    if kind == "section":
        return policy.section(value).heading in seen.reply
    if kind == "intent":
        return seen.intent == value or (seen.active_form is not None
                                        and seen.active_form == form_of(value))
    if kind == "not_covered":
        return "the policy does not" in seen.reply.lower()
    if kind == "out_of_scope":
        return seen.intent in OUT_OF_SCOPE_INTENTS and not cited_sections(policy, seen.reply)
    raise ValueError(f"unknown expectation {alternative!r}")


def judge(policy: Policy, expect: str, seen: Observation) -> bool:
    return any(meets(policy, alternative, seen) for alternative in expect.split("|"))


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
        intent = ((state.get("latest_message") or {}).get("intent") or {}).get("name")
        active_form = (state.get("active_loop") or {}).get("name")
        return Observation(reply=reply, intent=intent, active_form=active_form)


def evaluate(items: Iterable[Dict[str, str]], assistant: LiveAssistant,
             policy: Optional[Policy] = None) -> List[Outcome]:
    policy = policy or load_policy()
    outcomes = []
    for item in items:
        seen = assistant.ask(item["text"])
        outcomes.append(Outcome(
            text=item["text"], expect=item["expect"], category=category_of(item["expect"]),
            passed=judge(policy, item["expect"], seen), reply=seen.reply, intent=seen.intent,
            active_form=seen.active_form,
        ))
    return outcomes


def accuracy(outcomes: List[Outcome]) -> float:
    return sum(o.passed for o in outcomes) / len(outcomes) if outcomes else 0.0


def report(outcomes: List[Outcome]) -> str:
    by_category: Dict[str, List[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_category[outcome.category].append(outcome)
    lines = [f"{'category':<14} {'correct':>7} {'total':>5} {'accuracy':>8}"]
    for category in sorted(by_category):
        group = by_category[category]
        lines.append(f"{category:<14} {sum(o.passed for o in group):>7} {len(group):>5} "
                     f"{accuracy(group):>8.1%}")
    lines.append(f"{'overall':<14} {sum(o.passed for o in outcomes):>7} {len(outcomes):>5} "
                 f"{accuracy(outcomes):>8.1%}")
    failures = [o for o in outcomes if not o.passed]
    if failures:
        lines.append("\nfailed:")
        for o in failures:
            first_line = o.reply.splitlines()[0] if o.reply else "(no reply)"
            lines.append(f"- {o.text!r} expected {o.expect}; intent={o.intent} "
                         f"form={o.active_form}; reply: {first_line[:100]}")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot eval", description=__doc__)
    parser.add_argument("file", type=Path, help="evaluation items (text + expect), YAML")
    parser.add_argument("--min-accuracy", type=float, default=0.0,
                        help="exit 1 when overall accuracy is below this (0-1)")
    parser.add_argument("--json", type=Path, help="also write every outcome to this file")
    args = parser.parse_args(argv)
    settings = load_settings()
    try:
        outcomes = evaluate(load_items(args.file), LiveAssistant(settings))
    except httpx.HTTPError as error:
        print(f"The assistant at {settings.rasa_url} did not answer ({error}). "
              "Start it with `make run` first.", file=sys.stderr)
        return 2
    print(report(outcomes))
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=2), encoding="utf-8")
    return 0 if accuracy(outcomes) >= args.min_accuracy else 1
