"""`python -m bot ...`: the project's command line."""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m bot", description="VideoPro privacy assistant")
    parser.add_argument("command", choices=["run", "eval", "env", "pipeline", "policy", "db",
                                            "requests", "outbox", "staff", "handoffs", "bench",
                                            "purge", "calibrate", "compare"],
                        help="run: start the stack; eval FILE: evaluate the running assistant; "
                        "env: create .env; pipeline: build the spaCy pipeline; "
                        "policy: print the parsed sections; db upgrade: migrate the request "
                        "database; requests export; outbox list|deliver; staff add|list|disable; "
                        "handoffs list; bench: throughput and latency against a stock bot; "
                        "purge --older-than 30d [--dry-run]: remove chat data past retention")
    args, rest = parser.parse_known_args(argv[:1])
    rest = argv[1:]
    if args.command == "run":
        from bot.devtools.stack import run_foreground
        workers = int(rest[rest.index("--workers") + 1]) if "--workers" in rest else 1
        return run_foreground(workers=workers)
    if args.command == "bench":
        from bot.devtools.bench import main as bench_main
        return bench_main(rest)
    if args.command == "compare":
        from bot.devtools.compare import main as compare_main
        return compare_main(rest)
    if args.command == "calibrate":
        from bot.devtools.calibrate import main as calibrate_main
        return calibrate_main(rest)
    if args.command == "eval":
        from bot.devtools.eval import main as eval_main
        return eval_main(rest)
    if args.command == "env":
        from bot.core.settings import ensure_env_file
        added = ensure_env_file()
        print(f"==> Added {', '.join(added)} to .env" if added else "==> .env is complete")
        return 0
    if args.command in ("db", "requests", "outbox", "staff", "handoffs"):
        from bot.cli.data import main as data_main
        return data_main(args.command, rest)
    if args.command == "purge":
        from bot.cli.retention import main as purge_main
        return purge_main(rest)
    if args.command == "pipeline":
        from bot.rasa.spacy_pipeline import main as pipeline_main
        return pipeline_main(rest)
    from bot.policy.document import load_policy
    policy = load_policy()
    print(f"{policy.title} (effective {policy.effective_date})")
    for section in policy.sections:
        gaps = f", gaps: {', '.join(g.kind for g in section.gaps)}" if section.gaps else ""
        print(f"- {section.id}: {section.heading} ({len(section.sentences)} sentences{gaps})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
