"""`python -m bot silence`: how often the policy's silence is decided wrongly, and a classifier
that decides it from evidence one can measure.

    python -m bot silence [--folds 5] [--precision 0.95] [--write] [--errors] [--no-router]

On our own examples only (data/nlu: `ask_<section>` = addressed, `ask_not_covered` = silent; and
data/calibration/silence_examples.yml, written for this), out of fold (stratified k-fold), per
language, it counts (a) addressed questions called silent and (b) silent questions answered, for:

- `cues`: the coverage map's verdict alone (a cue of a silent or partly covered topic);
- `classifier`: the silence classifier alone (`bot.nlu.silence`) at its calibrated threshold;
- `router today`: the router's replies as it decided before the classifier (the cues, then the
  intent classifier's `ask_not_covered` against the best section), each fold's intent ranking
  from a stand-in for the trained classifier (`bot.devtools.silence_proxy`); (a) is a "not
  covered" reply, (b) a direct answer from a section;
- `router with classifier`: the same replies with the classifier's verdict (`routing.decide`).

A reply "the closest the policy comes" quotes a section and says the policy does not answer
exactly that; it is counted apart, as neither error. Each language's threshold is the lowest
from which at least `--precision` of the questions called silent are silent, out of fold (as
`python -m bot calibrate` fits the router's). `--write` fits on every question and writes the
model, the thresholds, the counts and the trade-off tables to data/calibration/silence.yml.

The development files (../shared/eval/*.yml) are read only to estimate the effect there (the
items only a section answers, and those only "the policy does not say" answers), with the
models fitted on our own examples; nothing is fitted or chosen on them. Vectors are cached under
results/silence/ (git-ignored): the first run encodes about four thousand sentences (a few
minutes on two cores); the intent stand-in's folds take about five more.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import yaml

from bot.conversation.policy_reply import support
from bot.conversation.routing import (
    CLOSEST,
    DIRECT,
    NOT_COVERED,
    Decision,
    Reading,
    decide,
    is_routed,
    load_thresholds,
)
from bot.devtools.silence_data import (
    CACHE_DIR,
    DEV_FILES,
    LANGUAGES,
    DevItem,
    Labelled,
    VectorCache,
    dev_items,
    labels_of_intents,
    language_of,
    nlu_questions,
    own_questions,
)
from bot.devtools.silence_proxy import IntentProxy, Ranking
from bot.nlu import silence
from bot.nlu.evidence import Evidence, digest, policy_sentences, translation_spaces
from bot.nlu.examples import load_examples
from bot.policy.coverage import Coverage, CueSignals, load_coverage
from bot.policy.document import Policy, load_policy

GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))
FOLDS = 5
SEED = 7
PRECISION = 0.95
C = 0.3
SCALE = 10.0


# ------------------------------------------------------------------ what each question is


@dataclass
class Question:
    """One question with all the measurement needs of it; `ranking` and `silence` are filled
    out of fold (for a development question: by models fitted on all our examples)."""

    text: str
    language: str
    signals: CueSignals
    english: Optional[np.ndarray]
    multilingual: np.ndarray
    label: str = ""  # addressed or silent ("" for a development question)
    source: str = "nlu"
    intent: str = ""  # its NLU intent, for an example of data/nlu
    ranking: Ranking = ()
    silence: float = 0.0
    fold: int = -1

    @property
    def silent(self) -> bool:
        return self.label == "silent"

    def row(self, scale: float) -> np.ndarray:
        return silence.features(self.english, self.multilingual, self.signals, scale)


class Scorer:
    """The evidence a question carries to the router (its similarity to every policy sentence,
    as `PolicyEvidence` computes it), so that the replay's evidence floor is the live one."""

    def __init__(self, policy: Policy) -> None:
        from bot.nlu.encoder import load_encoder

        self.policy = policy
        sentences = policy_sentences(policy)
        self.digest = digest(sentences)
        self.english = load_encoder().encode([s.text for s in sentences])
        self.spaces = translation_spaces(sentences)

    def evidence(self, question: Question, silence_probability: Optional[float]) -> Evidence:
        space = self.spaces.get(question.language)
        if space is not None:
            from bot.core.language import normalise

            scores = space.similarities(normalise(question.text))
        elif question.english is not None:
            scores = self.english @ question.english
        else:
            scores = np.zeros(len(self.english))
        rounded = tuple(round(float(s), 3) for s in scores)
        return Evidence(self.digest, rounded, (), silence_probability)


def questions_of(
    labelled: Sequence[Labelled], cache: VectorCache, coverage: Coverage
) -> List[Question]:
    out = []
    for item in labelled:
        english, multilingual = cache.of(item.text)
        out.append(
            Question(
                item.text,
                item.language,
                coverage.signals(item.text),
                english,
                multilingual,
                item.label,
                item.source,
                item.intent,
            )
        )
    return out


# ------------------------------------------------------------------ out of fold


def fold_numbers(keys: Sequence[str], folds: int, seed: int) -> np.ndarray:
    """Each item's test fold, stratified over `keys`."""
    from sklearn.model_selection import StratifiedKFold

    out = np.zeros(len(keys), dtype=int)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for number, (_, test) in enumerate(splitter.split(np.zeros(len(keys)), list(keys))):
        out[test] = number
    return out


@dataclass
class Measured:
    """Every labelled question with its out-of-fold ranking and silence probability."""

    questions: List[Question]
    folds: int
    c: float
    scale: float


def out_of_fold(
    cache: VectorCache,
    coverage: Coverage,
    folds: int = FOLDS,
    seed: int = SEED,
    c: float = C,
    scale: float = SCALE,
    ranked: bool = True,
) -> Measured:
    """Folds over every NLU example (stratified by intent) and over the silence file's questions
    (by language and label); in each, the intent stand-in and the silence classifier are fitted
    on the other folds and read the held-out questions."""
    examples = load_examples()
    intents = [intent for intent, _ in examples]
    example_fold = fold_numbers(intents, folds, seed)
    nlu = nlu_questions()
    own = own_questions()
    own_fold: Sequence[int] = (
        fold_numbers([f"{q.language}:{q.label}" for q in own], folds, seed).tolist() if own else []
    )
    # data/nlu's policy questions in load_examples' order, so they share their example's fold.
    labels = labels_of_intents()
    policy_folds = [f for (i, _), f in zip(examples, example_fold, strict=True) if i in labels]
    questions = questions_of(nlu, cache, coverage) + questions_of(own, cache, coverage)
    for question, number in zip(questions, list(policy_folds) + list(own_fold), strict=True):
        question.fold = int(number)
    for number in range(folds):
        train = [q for q in questions if q.fold != number]
        test = [q for q in questions if q.fold == number]
        model = silence.fit([q.row(scale) for q in train], [q.silent for q in train], c, scale)
        for question in test:
            question.silence = float(1.0 / (1.0 + np.exp(-model.logit(question.row(scale)))))
        if ranked:
            kept = [(i, t) for (i, t), f in zip(examples, example_fold, strict=True) if f != number]
            proxy = IntentProxy().fit(
                [t for _, t in kept], [i for i, _ in kept], [cache.of(t) for _, t in kept]
            )
            rankings = proxy.rank([q.text for q in test], [cache.of(q.text) for q in test])
            for question, ranking in zip(test, rankings, strict=True):
                question.ranking = ranking
    return Measured(questions, folds, c, scale)


# ------------------------------------------------------------------ verdicts and replies


def cue_verdict(question: Question) -> bool:
    """Today's verdict of the map alone: a cue of a silent or partly covered topic."""
    return question.signals.silent or question.signals.partly


class Router:
    """The router replayed on a question: its reading (ranking, evidence and, with a threshold,
    the silence probability) through `decide`, with each language's calibrated thresholds."""

    def __init__(self, policy: Policy, coverage: Coverage) -> None:
        self.policy = policy
        self.coverage = coverage
        self.scorer = Scorer(policy)
        self._evidence: Dict[int, Evidence] = {}

    def reading(self, question: Question, with_silence: bool) -> Reading:
        key = id(question)
        if key not in self._evidence:
            self._evidence[key] = self.scorer.evidence(question, None)
        evidence = self._evidence[key]
        if with_silence:
            evidence = replace(evidence, silence=round(question.silence, 3))
        return Reading(question.text, question.ranking, evidence)

    def decision(self, question: Question, threshold: Optional[float]) -> Optional[Decision]:
        """None when the message would not reach the router (its top intent is a request, a
        greeting ...)."""
        reading = self.reading(question, threshold is not None)
        if not is_routed(reading.top[0]):
            return None
        thresholds = replace(load_thresholds(language=question.language), silence=threshold)
        return decide(
            reading,
            self.coverage,
            thresholds,
            self.policy.section_ids,
            support(self.policy, reading),
        )


@dataclass
class Tally:
    """(a) addressed questions called silent, (b) silent ones answered with a section; for a
    replayed reply also those quoted as the closest the policy comes (neither error) and those
    the router would not have answered at all."""

    addressed: int = 0
    silent: int = 0
    called_silent: int = 0
    answered: int = 0
    closest: int = 0
    elsewhere: int = 0

    def add_verdict(self, question: Question, silent: bool) -> None:
        self._count(question)
        if question.silent and not silent:
            self.answered += 1
        if not question.silent and silent:
            self.called_silent += 1

    def add_reply(self, question: Question, decision: Optional[Decision]) -> None:
        self._count(question)
        kind = decision.kind if decision is not None else ""
        if kind == CLOSEST:
            self.closest += 1
        elif kind not in (DIRECT, NOT_COVERED):
            self.elsewhere += 1
        elif question.silent and kind == DIRECT:
            self.answered += 1
        elif not question.silent and kind == NOT_COVERED:
            self.called_silent += 1

    def _count(self, question: Question) -> None:
        if question.silent:
            self.silent += 1
        else:
            self.addressed += 1

    def line(self, name: str, replies: bool) -> str:
        a = f"{self.called_silent:>4} {_share(self.called_silent, self.addressed):>6}"
        b = f"{self.answered:>4} {_share(self.answered, self.silent):>6}"
        extra = f" {self.closest:>7} {self.elsewhere:>10}" if replies else ""
        return f"  {name:<26} {self.addressed:>5} {a} {self.silent:>6} {b}{extra}"

    def as_dict(self, replies: bool = True) -> Dict[str, int]:
        out = {
            "addressed": self.addressed,
            "addressed_called_silent": self.called_silent,
            "silent": self.silent,
            "silent_answered": self.answered,
        }
        if replies:
            out.update(closest=self.closest, not_routed=self.elsewhere)
        return out


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


HEADER = (
    f"  {'':<26} {'addr.':>5} {'(a)':>4} {'':>6} {'silent':>6} {'(b)':>4} {'':>6}"
    f" {'closest':>7} {'not routed':>10}"
)
LEGEND = (
    "  (a) addressed questions called silent (a reply: not covered); (b) silent questions "
    "answered (a reply: a direct answer from a section)"
)


# ------------------------------------------------------------------ thresholds


@dataclass(frozen=True)
class Row:
    threshold: float
    called: int  # questions called silent at or above it
    precision: float  # of those, the share that are silent
    recall: float  # of the silent questions, the share called silent
    called_silent: int  # (a) addressed questions called silent
    answered: int  # (b) silent questions not called silent


def tradeoff(questions: Sequence[Question]) -> List[Row]:
    silent = sum(q.silent for q in questions)
    rows = []
    for threshold in GRID:
        called = [q for q in questions if q.silence >= threshold]
        right = sum(q.silent for q in called)
        rows.append(
            Row(
                threshold,
                len(called),
                right / len(called) if called else 1.0,
                right / silent if silent else 0.0,
                len(called) - right,
                silent - right,
            )
        )
    return rows


def lowest_meeting(rows: Sequence[Row], precision: float) -> float:
    """The lowest threshold from which every higher one is also at least that precise (the
    highest of the grid when none is)."""
    chosen = rows[-1].threshold
    for row in reversed(rows):
        if row.precision < precision:
            break
        chosen = row.threshold
    return chosen


def tradeoff_table(rows: Sequence[Row], chosen: float) -> List[str]:
    lines = [
        f"  {'threshold':>9} {'called':>6} {'precision':>9} {'recall':>7} {'(a)':>4} {'(b)':>4}"
    ]
    for row in rows:
        mark = "  <- calibrated" if row.threshold == chosen else ""
        lines.append(
            f"  {row.threshold:>9.2f} {row.called:>6} {row.precision:>9.1%} {row.recall:>7.1%} "
            f"{row.called_silent:>4} {row.answered:>4}{mark}"
        )
    return lines


# ------------------------------------------------------------------ the report


@dataclass
class Report:
    thresholds: Dict[str, float] = field(default_factory=dict)
    tradeoffs: Dict[str, List[Row]] = field(default_factory=dict)
    tallies: Dict[str, Dict[str, Dict[str, int]]] = field(default_factory=dict)
    lines: List[str] = field(default_factory=list)


def measure(
    measured: Measured, router: Optional[Router], precision: float, errors: bool = False
) -> Report:
    """Per language: the trade-off table and its threshold, then (a) and (b) for each way of
    deciding, over all our questions and over the silence file's alone."""
    report = Report()
    for language in LANGUAGES:
        questions = [q for q in measured.questions if q.language == language]
        rows = tradeoff(questions)
        chosen = lowest_meeting(rows, precision)
        report.thresholds[language] = chosen
        report.tradeoffs[language] = rows
        report.lines += [
            f"== {language}: {sum(not q.silent for q in questions)} addressed, "
            f"{sum(q.silent for q in questions)} silent questions, {measured.folds}-fold out of "
            f"fold",
            f"silence classifier: threshold at {precision:.0%} precision",
            *tradeoff_table(rows, chosen),
            "",
            LEGEND,
            HEADER,
        ]
        report.tallies[language] = {}
        for source, label in (("", "all"), ("own", "silence_examples.yml")):
            chosen_questions = [q for q in questions if not source or q.source == source]
            if not chosen_questions:
                continue
            tallies = _tallies(chosen_questions, router, chosen)
            if not source:
                report.tallies[language] = {
                    k: t.as_dict(k.startswith("router")) for k, t in tallies.items()
                }
            report.lines.append(f"  -- {label}")
            for name, tally in tallies.items():
                report.lines.append(tally.line(NAMES[name], name.startswith("router")))
        if errors and router is not None:
            report.lines += _changes(questions, router, chosen)
        report.lines.append("")
    return report


def _tallies(
    questions: Sequence[Question], router: Optional[Router], threshold: float
) -> Dict[str, Tally]:
    out = {"cues": Tally(), "classifier": Tally()}
    for question in questions:
        out["cues"].add_verdict(question, cue_verdict(question))
        out["classifier"].add_verdict(question, question.silence >= threshold)
    if router is not None and all(q.ranking for q in questions):
        today, after = Tally(), Tally()
        for question in questions:
            today.add_reply(question, router.decision(question, None))
            after.add_reply(question, router.decision(question, threshold))
        out["router_today"] = today
        out["router_with_classifier"] = after
    return out


NAMES = {
    "cues": "cues (the map alone)",
    "classifier": "classifier",
    "router_today": "router today",
    "router_with_classifier": "router with classifier",
}


def _kind(decision: Optional[Decision]) -> str:
    return decision.kind if decision is not None else "not routed"


def _changes(questions: Sequence[Question], router: Router, threshold: float) -> List[str]:
    """Every question whose reply kind the classifier changes, for reading."""
    lines = ["  changed replies (label: today -> with classifier, silence probability):"]
    for question in questions:
        before = _kind(router.decision(question, None))
        after = _kind(router.decision(question, threshold))
        if before != after:
            lines.append(
                f"    {question.label:<9} {before} -> {after} ({question.silence:.2f}) "
                f"{question.text!r}"
            )
    return lines


# ------------------------------------------------------------------ the development files


def development_estimate(
    cache: VectorCache,
    coverage: Coverage,
    router: Router,
    model: silence.SilenceModel,
    items: Mapping[str, Sequence[DevItem]],
    errors: bool = False,
) -> List[str]:
    """Each development file's questions through the intent stand-in and the silence classifier,
    both fitted on all our examples: the router's reply today and with the classifier, judged
    as `make eval` judges a reply. Read only to estimate; nothing here is fitted on them."""
    examples = load_examples()
    proxy = IntentProxy().fit(
        [t for _, t in examples], [i for i, _ in examples], [cache.of(t) for _, t in examples]
    )
    lines = ["== development files (estimate: the intent stand-in, not the trained model)"]
    for name, file_items in items.items():
        questions = []
        for item in file_items:
            english, multilingual = cache.of(item.text)
            signals = coverage.signals(item.text)
            question = Question(
                item.text, language_of(item.text), signals, english, multilingual, source="dev"
            )
            question.silence = model.probability(english, multilingual, signals)
            questions.append(question)
        rankings = proxy.rank([q.text for q in questions], [cache.of(q.text) for q in questions])
        counts: Counter = Counter()
        changed: List[str] = []
        for item, question, ranking in zip(file_items, questions, rankings, strict=True):
            question.ranking = ranking
            thresholds = model.threshold(question.language)
            kinds, passes = [], []
            for when, threshold in (("today", None), ("with classifier", thresholds)):
                decision = router.decision(question, threshold)
                kinds.append(_kind(decision))
                passed, wrong = _judged(router.policy, item, question, decision)
                passes.append(passed)
                counts[f"passed {when}"] += passed
                counts[f"wrong {when}"] += wrong
            called = (cue_verdict(question), question.silence >= (thresholds or 1.0))
            for when, verdict in zip(("cues", "classifier"), called, strict=True):
                counts[f"(a) {when}"] += item.addressed_only and verdict
                counts[f"(b) {when}"] += item.silent_only and not verdict
            for when, kind in zip(("today", "with classifier"), kinds, strict=True):
                if item.addressed_only and kind == NOT_COVERED:
                    counts[f"(a) {when}"] += 1
                if item.silent_only and kind == DIRECT:
                    counts[f"(b) {when}"] += 1
            if kinds[0] != kinds[1] or passes[0] != passes[1]:
                changed.append(
                    f"    {kinds[0]} -> {kinds[1]} ({'pass' if passes[0] else 'fail'} -> "
                    f"{'pass' if passes[1] else 'fail'}, {question.silence:.2f}) "
                    f"{item.text!r} expects {item.expect}"
                )
        addressed = sum(i.addressed_only for i in file_items)
        silent_only = sum(i.silent_only for i in file_items)
        lines += [
            f"  {name}: {len(file_items)} items ({addressed} only a section will do, "
            f"{silent_only} only 'the policy does not say')",
            f"    verdicts: (a) addressed called silent: cues {counts['(a) cues']}, classifier "
            f"{counts['(a) classifier']}; (b) silent called addressed: cues "
            f"{counts['(b) cues']}, classifier {counts['(b) classifier']}",
            f"    replies replayed, today -> with classifier: passed {counts['passed today']} -> "
            f"{counts['passed with classifier']}, confidently wrong {counts['wrong today']} -> "
            f"{counts['wrong with classifier']}; (a) addressed called silent "
            f"{counts['(a) today']} -> {counts['(a) with classifier']}; (b) silent answered with "
            f"a section {counts['(b) today']} -> {counts['(b) with classifier']}; "
            f"{len(changed)} replies change",
        ]
        if errors:
            lines += changed
    return lines


def _judged(
    policy: Policy, item: DevItem, question: Question, decision: Optional[Decision]
) -> Tuple[bool, bool]:
    """(passed, confidently wrong) as `make eval` judges the reply: the headings it quotes, and
    "the policy does not" for a reply that abstains; a message the router does not answer, by
    its intent alone."""
    from bot.devtools.eval import Observation, confidently_wrong, form_of, judge

    intent = question.ranking[0][0] if question.ranking else ""
    if decision is None:
        seen = Observation("", intent, form_of(intent))
    else:
        shown = [policy.section(s).heading for s in decision.sections]
        if decision.abstains:
            shown.append("the policy does not")
        seen = Observation("\n".join(shown), intent, None)
    return judge(policy, item.expect, seen), confidently_wrong(policy, item.expect, seen)


# ------------------------------------------------------------------ writing the model


HEADER_COMMENT = """\
# Written by `python -m bot silence --write` (make silence); do not edit by hand. Re-run after
# changing data/nlu, data/calibration/silence_examples.yml or the coverage map's cues.
# The silence classifier (bot/nlu/silence.py): logistic regression over the two sentence
# encoders' vectors and the coverage map's cue findings, fitted on all our own questions
# (data/nlu ask_<section>: addressed, ask_not_covered: silent; silence_examples.yml). Scored by
# NLU (PolicyEvidence) into the evidence; the router (bot/conversation/routing.py) takes a
# question as one the policy is silent on at or above its language's threshold, chosen out of
# fold at the precision below. `measured`: out-of-fold counts behind that choice: (a) addressed
# questions called silent, (b) silent questions answered; by the cues alone, the classifier alone,
# and the router replayed today and with the classifier (python -m bot silence explains them).
# `on`: how many questions of each kind (nlu: data/nlu, own: silence_examples.yml).
"""


def write_model(
    path: Path,
    model: silence.SilenceModel,
    report: Report,
    measured: Measured,
    precision: float,
    seed: int,
) -> None:
    counts = Counter((q.language, q.source, q.label) for q in measured.questions)
    data = {
        "thresholds": dict(report.thresholds),
        "fitted": {
            "on": {
                language: {
                    f"{source}_{label}": counts[(language, source, label)]
                    for source in ("nlu", "own")
                    for label in ("addressed", "silent")
                }
                for language in LANGUAGES
            },
            "folds": measured.folds,
            "seed": seed,
            "precision": precision,
            "c": measured.c,
        },
        "measured": report.tallies,
        "tradeoff": {
            language: [
                {
                    "threshold": r.threshold,
                    "called": r.called,
                    "precision": round(r.precision, 4),
                    "recall": round(r.recall, 4),
                    "addressed_called_silent": r.called_silent,
                    "silent_missed": r.answered,
                }
                for r in rows
            ]
            for language, rows in report.tradeoffs.items()
        },
        "model": model.to_data(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    # Lists of numbers in flow style, wrapped: the weights take a hundred lines, not a thousand.
    text = yaml.safe_dump(
        data, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
    )
    path.write_text(HEADER_COMMENT + text, encoding="utf-8")


def fit_all(measured: Measured) -> silence.SilenceModel:
    """The classifier on every labelled question, as the file keeps it (rounded)."""
    questions = measured.questions
    model = silence.fit(
        [q.row(measured.scale) for q in questions],
        [q.silent for q in questions],
        measured.c,
        measured.scale,
    )
    return silence.rounded(model)


# ------------------------------------------------------------------ command line


def main(argv: Optional[List[str]] = None) -> int:
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    parser = argparse.ArgumentParser(
        prog="python -m bot silence",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--folds", type=int, default=FOLDS)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--precision",
        type=float,
        default=PRECISION,
        help="share of the questions called silent that must be silent, out of fold",
    )
    parser.add_argument("--c", type=float, default=C, help="inverse regularisation strength")
    parser.add_argument(
        "--no-router",
        action="store_true",
        help="the verdicts only: no intent stand-in, no replayed replies (seconds, not minutes)",
    )
    parser.add_argument(
        "--no-dev", action="store_true", help="skip the estimate on the development files"
    )
    parser.add_argument("--errors", action="store_true", help="list every reply that changes")
    parser.add_argument(
        "--write", action="store_true", help=f"fit on everything and write {silence.SILENCE_FILE}"
    )
    parser.add_argument("--out", type=Path, default=silence.SILENCE_FILE)
    parser.add_argument("--json", type=Path, help="also write the counts to this file")
    args = parser.parse_args(argv)
    # The intent stand-in stops where the pipeline's classifier does (150 iterations).
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    coverage = load_coverage()
    cache = VectorCache(CACHE_DIR)
    items = {} if args.no_dev or args.no_router else dev_items(DEV_FILES)
    cache.fill(
        [t for _, t in load_examples()]
        + [q.text for q in own_questions()]
        + [i.text for file_items in items.values() for i in file_items]
    )
    measured = out_of_fold(
        cache, coverage, args.folds, args.seed, args.c, SCALE, ranked=not args.no_router
    )
    router = None if args.no_router else Router(load_policy(), coverage)
    report = measure(measured, router, args.precision, args.errors)
    print("\n".join(report.lines))
    model = replace(fit_all(measured), thresholds=dict(report.thresholds))
    if router is not None and items:
        print("\n".join(development_estimate(cache, coverage, router, model, items, args.errors)))
    if args.json:
        args.json.write_text(json.dumps(report.tallies, indent=2), encoding="utf-8")
    if args.write:
        write_model(args.out, model, report, measured, args.precision, args.seed)
        print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
