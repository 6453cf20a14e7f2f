"""`make compare`: every NLU pipeline in `docs/pipelines/`, on the same folds and the same split.

For each pipeline: 3-fold cross-validation over our own examples (`rasa test nlu
--cross-validation`), and a held-out quarter (`rasa data split nlu`, seed 7: trained on the rest,
tested on it), with the time each took. Prints the table the README quotes. A script that prints
figures, not a test; it takes about ten minutes a pipeline on two cores.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

from bot.core.paths import ROOT
from bot.core.settings import environment_for_child

PIPELINES = ROOT / "docs" / "pipelines"
OUT = ROOT / "results" / "compare"
RASA = str(Path(sys.executable).parent / "rasa")


def _rasa(*args: str) -> float:
    started = time.perf_counter()
    env = environment_for_child({"PYTHONWARNINGS": "ignore"})
    subprocess.run([RASA, *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def _report(folder: Path) -> Dict[str, float]:
    report = json.loads((folder / "intent_report.json").read_text(encoding="utf-8"))
    return {"macro_f1": report["macro avg"]["f1-score"], "accuracy": report["accuracy"]}


def split() -> Path:
    folder = OUT / "split"
    if not (folder / "training_data.yml").exists():
        _rasa("data", "split", "nlu", "--nlu", "data/nlu", "--training-fraction", "0.75",
              "--random-seed", "7", "--out", str(folder))
    return folder


def measure(config: Path, folds: int) -> Dict[str, float]:
    name = config.stem
    crossval = OUT / name / "crossval"
    seconds = _rasa("test", "nlu", "--nlu", "data/nlu", "--config", str(config),
                    "--cross-validation", "--folds", str(folds), "--out", str(crossval))
    result = {f"cv_{k}": v for k, v in _report(crossval).items()}
    result["cv_seconds"] = seconds
    data = split()
    model_dir = OUT / name / "model"
    result["train_seconds"] = _rasa("train", "nlu", "--nlu", str(data / "training_data.yml"),
                                    "--config", str(config), "--out", str(model_dir),
                                    "--fixed-model-name", name)
    held_out = OUT / name / "held_out"
    _rasa("test", "nlu", "--nlu", str(data / "test_data.yml"), "--model",
          str(model_dir / f"{name}.tar.gz"), "--out", str(held_out))
    result.update({f"held_out_{k}": v for k, v in _report(held_out).items()})
    return result


def table(results: Dict[str, Dict[str, float]]) -> List[str]:
    lines = ["| pipeline | CV macro-F1 | CV accuracy | held-out accuracy | held-out macro-F1 "
             "| training (75 %) |", "|---|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| `{name}` | {r['cv_macro_f1']:.3f} | {r['cv_accuracy']:.3f} | "
                     f"{r['held_out_accuracy']:.3f} | {r['held_out_macro_f1']:.3f} | "
                     f"{r['train_seconds']:.0f} s |")
    return lines


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot compare", description=__doc__)
    parser.add_argument("configs", nargs="*", type=Path,
                        help="pipelines to compare (default: all of docs/pipelines/)")
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args(argv)
    configs = args.configs or sorted(PIPELINES.glob("*.yml"))
    OUT.mkdir(parents=True, exist_ok=True)
    results: Dict[str, Dict[str, float]] = {}
    for config in configs:
        print(f"==> {config.stem}", flush=True)
        results[config.stem] = measure(config, args.folds)
        (OUT / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print("\n".join(table(results)))
    return 0
