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

from bot.conversation.routing import (
    CALIBRATION_FILE,
    NOT_COVERED_INTENT,
    SECTION_PREFIX,
    Thresholds,
)

GRID = tuple(round(0.05 * i, 2) for i in range(2, 20))


@dataclass(frozen=True)
class Prediction:
    target: str
    predicted: str
    confidence: float

    @property
    def quotes(self) -> bool:
        """Would be answered from a section, were it confident enough."""
        return self.predicted.startswith(SECTION_PREFIX) and self.predicted != NOT_COVERED_INTENT

    @property
    def right(self) -> bool:
        return self.target == self.predicted


def load_predictions(folder: Path) -> List[Prediction]:
    out: List[Prediction] = []
    for name in ("intent_successes.json", "intent_errors.json"):
        path = folder / name
        if not path.exists():
            continue
        for item in json.loads(path.read_text(encoding="utf-8")):
            prediction = item.get("intent_prediction") or {}
            out.append(Prediction(str(item.get("intent")), str(prediction.get("name")),
                                  float(prediction.get("confidence") or 0.0)))
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
        rows.append(Row(threshold, len(kept) / len(quoting) if quoting else 0.0,
                        right / len(kept) if kept else 1.0, len(kept) - right))
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


def fit(predictions: Sequence[Prediction], direct_precision: float,
        closest_precision: float) -> Tuple[Thresholds, List[Row]]:
    rows = tradeoff(predictions)
    default = Thresholds()
    direct = lowest_meeting(rows, direct_precision) or GRID[-1]
    meeting = [t for t in GRID if t < direct
               and band_precision(predictions, t, direct) >= closest_precision]
    closest = min(meeting) if meeting else direct
    return Thresholds(direct=direct, closest=closest, policy_mass=default.policy_mass,
                      part=closest, out_of_scope=default.out_of_scope,
                      evidence=default.evidence), rows


def evidence_floor(share: float) -> float:
    """The similarity that ``share`` of our own section questions reach in their own section."""
    import numpy as np

    from bot.nlu.encoder import load_encoder
    from bot.nlu.evidence import policy_sentences
    from bot.nlu.examples import load_examples
    from bot.policy.document import load_policy

    sentences = policy_sentences(load_policy())
    encoder = load_encoder()
    policy_vectors = encoder.encode([s.text for s in sentences])
    examples = [(i[len(SECTION_PREFIX):], t) for i, t in load_examples()
                if i.startswith(SECTION_PREFIX) and i != NOT_COVERED_INTENT]
    similarity = encoder.encode([t for _, t in examples]) @ policy_vectors.T
    sections = np.array([s.section_id for s in sentences])
    best = [float(row[sections == section].max()) for (section, _), row in
            zip(examples, similarity, strict=True)]
    return round(float(np.quantile(best, 1.0 - share)), 3)


def table(rows: Sequence[Row], chosen: Thresholds) -> List[str]:
    lines = [f"{'threshold':>9} {'answered':>9} {'precision':>9} {'wrong':>6}"]
    for row in rows:
        mark = " <- direct" if row.threshold == chosen.direct else (
            " <- closest" if row.threshold == chosen.closest else "")
        lines.append(f"{row.threshold:>9.2f} {row.answered:>9.1%} {row.precision:>9.1%} "
                     f"{row.wrong:>6}{mark}")
    return lines


def write(path: Path, chosen: Thresholds, rows: Sequence[Row], count: int,
          settings: Dict[str, float]) -> None:
    data = {
        "thresholds": asdict(chosen),
        "fitted": {"on": f"{count} out-of-fold predictions of our own examples (make crossval)",
                   "date": date.today().isoformat(), **settings},
        "tradeoff": [{"threshold": r.threshold, "answered": round(r.answered, 4),
                      "precision": round(r.precision, 4), "wrong": r.wrong} for r in rows],
    }
    header = ("# Written by `python -m bot calibrate` (make calibrate); read by the action "
              "server's\n"
              "# router (bot/routing.py). Do not edit by hand: re-run after changing data/nlu.\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot calibrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, nargs="?", default=Path("results/crossval"),
                        help="the output folder of `make crossval`")
    parser.add_argument("--direct-precision", type=float, default=0.95)
    parser.add_argument("--closest-precision", type=float, default=0.6)
    parser.add_argument("--evidence-share", type=float, default=0.9,
                        help="share of our own section questions that must reach the floor")
    parser.add_argument("--out", type=Path, default=CALIBRATION_FILE)
    args = parser.parse_args(argv)
    predictions = load_predictions(args.results)
    if not predictions:
        print(f"No predictions in {args.results}: run `make crossval` first.", file=sys.stderr)
        return 2
    chosen, rows = fit(predictions, args.direct_precision, args.closest_precision)
    if args.evidence_share > 0:
        chosen = replace(chosen, evidence=evidence_floor(args.evidence_share))
    print("\n".join(table(rows, chosen)))
    print(f"\nthresholds: direct {chosen.direct}, closest {chosen.closest}, evidence "
          f"{chosen.evidence} (from {len(predictions)} out-of-fold predictions)")
    write(args.out, chosen, rows, len(predictions),
          {"direct_precision": args.direct_precision,
           "closest_precision": args.closest_precision, "evidence_share": args.evidence_share})
    print(f"written to {args.out}")
    return 0
