"""`python -m bot calibrate`: fit the router's thresholds on our own examples, out of fold.

`make crossval` (3-fold cross-validation through the real pipeline) leaves every example's
out-of-fold prediction and confidence in `results/crossval/intent_successes.json` and
`intent_errors.json`. Those are predictions on phrasing the model did not train on, i.e. a
development split of our own data, never the evaluation sets. From them:
- `direct`: the lowest confidence at which a predicted policy section is right at least
  `--direct-precision` of the time (a quote the visitor can trust);
- `closest`: the lowest confidence from which the predictions between it and `direct` are still
  right at least `--closest-precision` of the time (worth quoting as "the closest the policy
  comes", with a plain warning; below it the assistant says the policy does not answer).
- `evidence`: how similar (the encoder's cosine) the best sentence of a section is to our own
  questions about it, at the `--evidence-share` mark: a direct answer needs the text itself to
  read like the question that well, or it is quoted as the closest the policy comes.
The trade-off table (share answered directly against precision) is printed and saved beside the
thresholds in `data/calibration/thresholds.yml`, which the action server reads.

Each language is fitted on its own messages (Chinese: those with a Han character): English at the
top of the file as before, Chinese in a `zh:` block of the same shape (`thresholds`, `fitted`,
`tradeoff`), whose `evidence` is on the scale of the Chinese evidence (character n-gram cosine
against the reference translation, `bot.nlu.evidence.translation_space`). The router reads a
language's thresholds with `bot.nlu.evidence.thresholds(language)`.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import yaml

from bot.conversation.routing import SECTION_PREFIX, Thresholds, is_section_intent
from bot.nlu.evidence import CALIBRATION_FILE

GRID = tuple(round(0.05 * i, 2) for i in range(2, 20))


@dataclass(frozen=True)
class Prediction:
    target: str
    predicted: str
    confidence: float

    @property
    def quotes(self) -> bool:
        """Would be answered from a section, were it confident enough."""
        return is_section_intent(self.predicted)

    @property
    def right(self) -> bool:
        return self.target == self.predicted


def load_predictions(folder: Path, language: Optional[str] = None) -> List[Prediction]:
    """The out-of-fold predictions; with `language`, only those of messages in it ("zh": the
    text has a Han character, "en": it has none)."""
    from bot.core.language import has_han

    out: List[Prediction] = []
    for name in ("intent_successes.json", "intent_errors.json"):
        path = folder / name
        if not path.exists():
            continue
        for item in json.loads(path.read_text(encoding="utf-8")):
            if language is not None and has_han(str(item.get("text") or "")) != (language == "zh"):
                continue
            prediction = item.get("intent_prediction") or {}
            out.append(
                Prediction(
                    str(item.get("intent")),
                    str(prediction.get("name")),
                    float(prediction.get("confidence") or 0.0),
                )
            )
    return out


@dataclass(frozen=True)
class Row:
    threshold: float
    answered: float  # share of quoting predictions at or above the threshold
    precision: float  # of those, the share that cite the right section
    wrong: int


def tradeoff(predictions: Sequence[Prediction]) -> List[Row]:
    quoting = [p for p in predictions if p.quotes]
    rows = []
    for threshold in GRID:
        kept = [p for p in quoting if p.confidence >= threshold]
        right = sum(p.right for p in kept)
        rows.append(
            Row(
                threshold,
                len(kept) / len(quoting) if quoting else 0.0,
                right / len(kept) if kept else 1.0,
                len(kept) - right,
            )
        )
    return rows


def lowest_meeting(rows: Sequence[Row], precision: float) -> Optional[float]:
    """The lowest threshold from which on every higher one also reaches the precision."""
    chosen: Optional[float] = None
    for row in reversed(rows):
        if row.precision < precision:
            break
        chosen = row.threshold
    return chosen


def band_precision(predictions: Sequence[Prediction], low: float, high: float) -> float:
    band = [p for p in predictions if p.quotes and low <= p.confidence < high]
    return sum(p.right for p in band) / len(band) if band else 1.0


def fit(
    predictions: Sequence[Prediction], direct_precision: float, closest_precision: float
) -> Tuple[Thresholds, List[Row]]:
    rows = tradeoff(predictions)
    default = Thresholds()
    direct = lowest_meeting(rows, direct_precision) or GRID[-1]
    meeting = [
        t
        for t in GRID
        if t < direct and band_precision(predictions, t, direct) >= closest_precision
    ]
    closest = min(meeting) if meeting else direct
    return Thresholds(
        direct=direct,
        closest=closest,
        policy_mass=default.policy_mass,
        part=closest,
        out_of_scope=default.out_of_scope,
        evidence=default.evidence,
    ), rows


def evidence_floor(share: float, language: str = "en") -> float:
    """The similarity that ``share`` of our own section questions reach in their own section:
    the encoder's cosine for English, character n-gram cosine against the reference translation
    for Chinese (each language's questions only)."""
    import numpy as np

    if language == "zh":
        return _chinese_evidence_floor(share)

    from bot.core.language import has_han
    from bot.nlu.encoder import load_encoder
    from bot.nlu.evidence import policy_sentences
    from bot.nlu.examples import load_examples
    from bot.policy.document import load_policy

    sentences = policy_sentences(load_policy())
    encoder = load_encoder()
    policy_vectors = encoder.encode([s.text for s in sentences])
    examples = [
        (i[len(SECTION_PREFIX) :], t)
        for i, t in load_examples()
        if is_section_intent(i) and not has_han(t)
    ]
    similarity = encoder.encode([t for _, t in examples]) @ policy_vectors.T
    sections = np.array([s.section_id for s in sentences])
    best = [
        float(row[sections == section].max())
        for (section, _), row in zip(examples, similarity, strict=True)
    ]
    return round(float(np.quantile(best, 1.0 - share)), 3)


def _chinese_evidence_floor(share: float) -> float:
    import numpy as np

    from bot.core.language import has_han, normalise
    from bot.nlu.evidence import policy_sentences, translation_space
    from bot.nlu.examples import load_examples
    from bot.policy.document import load_policy

    sentences = policy_sentences(load_policy())
    space = translation_space(sentences, "zh")
    sections = np.array([s.section_id for s in sentences])
    best = [
        float(space.similarities(normalise(t))[sections == i[len(SECTION_PREFIX) :]].max())
        for i, t in load_examples()
        if is_section_intent(i) and has_han(t)
    ]
    if not best:
        return 0.0
    return round(float(np.quantile(best, 1.0 - share)), 3)


def table(rows: Sequence[Row], chosen: Thresholds) -> List[str]:
    lines = [f"{'threshold':>9} {'answered':>9} {'precision':>9} {'wrong':>6}"]
    for row in rows:
        mark = (
            " <- direct"
            if row.threshold == chosen.direct
            else (" <- closest" if row.threshold == chosen.closest else "")
        )
        lines.append(
            f"{row.threshold:>9.2f} {row.answered:>9.1%} {row.precision:>9.1%} {row.wrong:>6}{mark}"
        )
    return lines


def block(chosen: Thresholds, rows: Sequence[Row], count: int, settings: Dict[str, float]) -> Dict:
    # The silence threshold is not fitted here: `python -m bot silence` keeps it in silence.yml.
    fitted = {k: v for k, v in asdict(chosen).items() if k != "silence"}
    return {
        "thresholds": fitted,
        "fitted": {
            "on": f"{count} out-of-fold predictions of our own examples (make crossval)",
            "date": date.today().isoformat(),
            **settings,
        },
        "tradeoff": [
            {
                "threshold": r.threshold,
                "answered": round(r.answered, 4),
                "precision": round(r.precision, 4),
                "wrong": r.wrong,
            }
            for r in rows
        ],
    }


def write(
    path: Path,
    chosen: Thresholds,
    rows: Sequence[Row],
    count: int,
    settings: Dict[str, float],
    others: Optional[Dict[str, Dict]] = None,
) -> None:
    """English at the top; every other language's `block` under its code (`zh:`)."""
    data = block(chosen, rows, count, settings)
    data.update(others or {})
    header = (
        "# Written by `python -m bot calibrate` (make calibrate); read by the action "
        "server's\n"
        "# router through bot.nlu.evidence.thresholds(language): English at the top, "
        "Chinese\n# under `zh:`. Do not edit by hand: re-run after changing data/nlu.\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )


def fit_language(
    predictions: Sequence[Prediction], args: argparse.Namespace, language: str
) -> Tuple[Thresholds, List[Row]]:
    chosen, rows = fit(predictions, args.direct_precision, args.closest_precision)
    if args.evidence_share > 0:
        chosen = replace(chosen, evidence=evidence_floor(args.evidence_share, language))
    return chosen, rows


def refit_one(args: argparse.Namespace) -> int:
    """Refits one language's block from `args.results`, keeping the rest of `args.out`."""
    predictions = load_predictions(args.results, args.only)
    if not predictions:
        print(f"No {args.only} predictions in {args.results}.", file=sys.stderr)
        return 2
    settings = {
        "direct_precision": args.direct_precision,
        "closest_precision": args.closest_precision,
        "evidence_share": args.evidence_share,
    }
    chosen, rows = fit_language(predictions, args, args.only)
    print("\n".join(table(rows, chosen)))
    print(
        f"\n{args.only} thresholds: direct {chosen.direct}, closest {chosen.closest}, evidence "
        f"{chosen.evidence} (from {len(predictions)} out-of-fold predictions)"
    )
    existing = (
        yaml.safe_load(args.out.read_text(encoding="utf-8")) or {} if args.out.exists() else {}
    )
    fitted = block(chosen, rows, len(predictions), settings)
    others = {k: v for k, v in existing.items() if k not in ("thresholds", "fitted", "tradeoff")}
    if args.only == "en":
        english = fitted
    else:
        others[args.only] = fitted
        english = {k: existing[k] for k in ("thresholds", "fitted", "tradeoff") if k in existing}
    data = {**english, **others}
    header = (
        "# Written by `python -m bot calibrate` (make calibrate); read by the action "
        "server's\n"
        "# router through bot.nlu.evidence.thresholds(language): English at the top, "
        "Chinese\n# under `zh:`. Do not edit by hand: re-run after changing data/nlu.\n"
    )
    args.out.write_text(
        header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    print(f"written to {args.out}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot calibrate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "results",
        type=Path,
        nargs="?",
        default=Path("results/crossval"),
        help="the output folder of `make crossval`",
    )
    parser.add_argument("--direct-precision", type=float, default=0.95)
    parser.add_argument("--closest-precision", type=float, default=0.6)
    parser.add_argument(
        "--evidence-share",
        type=float,
        default=0.9,
        help="share of our own section questions that must reach the floor",
    )
    parser.add_argument("--out", type=Path, default=CALIBRATION_FILE)
    parser.add_argument(
        "--only",
        choices=("en", "zh"),
        help="refit this language only; keep the other's thresholds from --out",
    )
    args = parser.parse_args(argv)
    if args.only:
        return refit_one(args)
    predictions = load_predictions(args.results, "en")
    if not predictions:
        print(f"No predictions in {args.results}: run `make crossval` first.", file=sys.stderr)
        return 2
    settings = {
        "direct_precision": args.direct_precision,
        "closest_precision": args.closest_precision,
        "evidence_share": args.evidence_share,
    }
    chosen, rows = fit_language(predictions, args, "en")
    print("\n".join(table(rows, chosen)))
    print(
        f"\nthresholds: direct {chosen.direct}, closest {chosen.closest}, evidence "
        f"{chosen.evidence} (from {len(predictions)} out-of-fold predictions)"
    )
    others: Dict[str, Dict] = {}
    chinese = load_predictions(args.results, "zh")
    if chinese:
        zh, zh_rows = fit_language(chinese, args, "zh")
        print("\nzh:\n" + "\n".join(table(zh_rows, zh)))
        print(
            f"\nzh thresholds: direct {zh.direct}, closest {zh.closest}, evidence "
            f"{zh.evidence} (from {len(chinese)} out-of-fold predictions)"
        )
        others["zh"] = block(zh, zh_rows, len(chinese), settings)
    write(args.out, chosen, rows, len(predictions), settings, others)
    print(f"written to {args.out}")
    return 0
