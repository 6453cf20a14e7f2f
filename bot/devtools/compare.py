"""`make compare`: every NLU pipeline in `docs/pipelines/`, on the same folds and the same split.

For each pipeline: 3-fold cross-validation over our own examples (`rasa test nlu
--cross-validation`), and a held-out quarter (`rasa data split nlu`, seed 7: trained on the rest,
tested on it), with the time each took. Prints the table the README quotes. A script that prints
figures, not a test; it takes about ten minutes a pipeline on two cores.

`--by-language` instead runs, in this process, 3-fold cross-validation on fixed folds (Rasa's own
folds are shuffled without a seed; here StratifiedKFold with `--seed`, and only the held-out
fold is parsed, where `rasa test nlu` parses the training folds too) and reports intent
macro-F1 separately for English and for Chinese messages (a message is Chinese when it has a Han
character), with `--data all|en|zh` to train and test on one language only (one model per
language against one for both).
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from bot.core.paths import ROOT
from bot.core.settings import environment_for_child

PIPELINES = ROOT / "docs" / "pipelines"
OUT = ROOT / "results" / "compare"
RASA = str(Path(sys.executable).parent / "rasa")


def _rasa(*args: str) -> float:
    started = time.perf_counter()
    env = environment_for_child({"PYTHONWARNINGS": "ignore"})
    subprocess.run(
        [RASA, *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def _report(folder: Path) -> Dict[str, float]:
    report = json.loads((folder / "intent_report.json").read_text(encoding="utf-8"))
    return {"macro_f1": report["macro avg"]["f1-score"], "accuracy": report["accuracy"]}


def split() -> Path:
    folder = OUT / "split"
    if not (folder / "training_data.yml").exists():
        _rasa(
            "data",
            "split",
            "nlu",
            "--nlu",
            "data/nlu",
            "--training-fraction",
            "0.75",
            "--random-seed",
            "7",
            "--out",
            str(folder),
        )
    return folder


def measure(config: Path, folds: int) -> Dict[str, float]:
    name = config.stem
    crossval = OUT / name / "crossval"
    seconds = _rasa(
        "test",
        "nlu",
        "--nlu",
        "data/nlu",
        "--config",
        str(config),
        "--cross-validation",
        "--folds",
        str(folds),
        "--out",
        str(crossval),
    )
    result = {f"cv_{k}": v for k, v in _report(crossval).items()}
    result["cv_seconds"] = seconds
    data = split()
    model_dir = OUT / name / "model"
    result["train_seconds"] = _rasa(
        "train",
        "nlu",
        "--nlu",
        str(data / "training_data.yml"),
        "--config",
        str(config),
        "--out",
        str(model_dir),
        "--fixed-model-name",
        name,
    )
    held_out = OUT / name / "held_out"
    _rasa(
        "test",
        "nlu",
        "--nlu",
        str(data / "test_data.yml"),
        "--model",
        str(model_dir / f"{name}.tar.gz"),
        "--out",
        str(held_out),
    )
    result.update({f"held_out_{k}": v for k, v in _report(held_out).items()})
    return result


def table(results: Dict[str, Dict[str, float]]) -> List[str]:
    lines = [
        "| pipeline | CV macro-F1 | CV accuracy | held-out accuracy | held-out macro-F1 "
        "| training (75 %) |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        lines.append(
            f"| `{name}` | {r['cv_macro_f1']:.3f} | {r['cv_accuracy']:.3f} | "
            f"{r['held_out_accuracy']:.3f} | {r['held_out_macro_f1']:.3f} | "
            f"{r['train_seconds']:.0f} s |"
        )
    return lines


def _folds(examples: List[Any], n: int, seed: int) -> Iterator[Tuple[List[Any], List[Any]]]:
    """Stratified folds over the examples' intents, the same for the same seed."""
    from sklearn.model_selection import StratifiedKFold

    labels = [example.get_full_intent() for example in examples]
    skf = StratifiedKFold(n_splits=n, shuffle=True, random_state=seed)
    for train_index, test_index in skf.split(examples, labels):
        yield [examples[i] for i in train_index], [examples[i] for i in test_index]


def macro_f1(pairs: List[Tuple[str, str]]) -> float:
    """Rasa's intent report's macro average: over every label true or predicted."""
    from sklearn.metrics import f1_score

    if not pairs:
        return float("nan")
    truth, predicted = zip(*pairs, strict=True)
    return float(f1_score(truth, predicted, average="macro", zero_division=0))


def by_language(config: Path, data: str, folds: int, seed: int) -> Dict[str, float]:
    """Cross-validation of `config` on data/nlu (or only its English or Chinese examples), with
    macro-F1 and accuracy per language of the message."""
    import asyncio
    import tempfile

    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from rasa.utils.common import configure_logging_and_warnings

    from bot.core.language import has_han

    configure_logging_and_warnings(logging.WARNING)
    importer = TrainingDataImporter.load_from_dict(training_data_paths=[str(ROOT / "data" / "nlu")])
    training = importer.get_nlu_data()
    examples = [
        m
        for m in training.intent_examples
        if data == "all" or (has_han(m.get("text")) == (data == "zh"))
    ]
    started = time.perf_counter()
    rows: List[Dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as out:
        for number, (train, test) in enumerate(_folds(examples, folds, seed)):
            data_file = Path(out) / f"fold{number}.yml"
            RasaYAMLWriter().dump(
                data_file,
                TrainingData(
                    training_examples=train,
                    entity_synonyms=training.entity_synonyms,
                    regex_features=training.regex_features,
                    lookup_tables=training.lookup_tables,
                ),
            )
            model = train_nlu(str(config), str(data_file), out, fixed_model_name=f"fold{number}")
            agent = Agent.load(str(model))

            async def parse_all(agent: Any = agent, test: List[Any] = test) -> List[Dict]:
                return [await agent.parse_message(m.get("text")) for m in test]

            for example, parsed in zip(test, asyncio.run(parse_all()), strict=True):
                intent = parsed.get("intent") or {}
                rows.append(
                    {
                        "text": example.get("text"),
                        "intent": example.get_full_intent(),
                        "predicted": intent.get("name") or "",
                        "confidence": float(intent.get("confidence") or 0.0),
                    }
                )
    seconds = time.perf_counter() - started
    # In the shape of `rasa test nlu`'s files, so `python -m bot calibrate <folder>` reads them.
    folder = OUT / f"{config.stem}@{data}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "intent_successes.json").write_text(
        json.dumps(
            [
                {
                    "text": r["text"],
                    "intent": r["intent"],
                    "intent_prediction": {"name": r["predicted"], "confidence": r["confidence"]},
                }
                for r in rows
            ],
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    result: Dict[str, float] = {"seconds": seconds, "n": float(len(rows))}
    for language in ("en", "zh"):
        pairs = [
            (r["intent"], r["predicted"]) for r in rows if has_han(r["text"]) == (language == "zh")
        ]
        result[f"{language}_macro_f1"] = macro_f1(pairs)
        result[f"{language}_accuracy"] = (
            sum(t == p for t, p in pairs) / len(pairs) if pairs else float("nan")
        )
        result[f"{language}_n"] = float(len(pairs))
    return result


def crossval_report(folder: str = "results/crossval") -> None:
    """After `make crossval`: intent macro-F1 for English and for Chinese messages apart."""
    from bot.core.language import has_han

    rows: List[Dict[str, Any]] = []
    for name in ("intent_successes.json", "intent_errors.json"):
        path = Path(folder) / name
        if path.exists():
            rows += json.loads(path.read_text(encoding="utf-8"))
    for language in ("en", "zh"):
        pairs = [
            (str(r["intent"]), str((r.get("intent_prediction") or {}).get("name")))
            for r in rows
            if has_han(str(r.get("text") or "")) == (language == "zh")
        ]
        print(f"{language}: intent macro-F1 {macro_f1(pairs):.3f} over {len(pairs)} messages")


def language_table(results: Dict[str, Dict[str, float]]) -> List[str]:
    lines = [
        "| pipeline | data | en macro-F1 | en accuracy | zh macro-F1 | zh accuracy | CV time |",
        "|---|---|---|---|---|---|---|",
    ]
    for key, r in results.items():
        name, data = key.rsplit("@", 1)
        lines.append(
            f"| `{name}` | {data} | {r['en_macro_f1']:.3f} | {r['en_accuracy']:.3f} | "
            f"{r['zh_macro_f1']:.3f} | {r['zh_accuracy']:.3f} | {r['seconds']:.0f} s |"
        )
    return lines


def main_by_language(configs: List[Path], data: List[str], folds: int, seed: int) -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    results_file = OUT / "by_language.json"
    results: Dict[str, Dict[str, float]] = (
        json.loads(results_file.read_text(encoding="utf-8")) if results_file.exists() else {}
    )
    for config in configs:
        for subset in data:
            key = f"{config.stem}@{subset}"
            print(f"==> {key}", flush=True)
            results[key] = by_language(config, subset, folds, seed)
            print(language_table({key: results[key]})[-1], flush=True)
            results_file.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print("\n".join(language_table(results)))
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot compare", description=__doc__)
    parser.add_argument(
        "configs",
        nargs="*",
        type=Path,
        help="pipelines to compare (default: all of docs/pipelines/)",
    )
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument(
        "--by-language",
        action="store_true",
        help="fixed folds in this process; macro-F1 for English and Chinese apart",
    )
    parser.add_argument(
        "--data",
        action="append",
        choices=("all", "en", "zh"),
        help="with --by-language: which examples (repeatable; default all)",
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.by_language:
        return main_by_language(
            args.configs or [ROOT / "config.yml"], args.data or ["all"], args.folds, args.seed
        )
    configs = args.configs or sorted(PIPELINES.glob("*.yml"))
    OUT.mkdir(parents=True, exist_ok=True)
    results: Dict[str, Dict[str, float]] = {}
    for config in configs:
        print(f"==> {config.stem}", flush=True)
        results[config.stem] = measure(config, args.folds)
        (OUT / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print("\n".join(table(results)))
    return 0
