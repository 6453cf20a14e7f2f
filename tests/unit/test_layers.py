"""The packages import one way: core -> storage -> (mail, policy, nlu) -> (requests, support,
staff) -> retention -> services -> conversation -> adapters (rasa, web, cli, devtools,
`python -m bot`, and the top-level actions/ package). Nothing imports upwards and no modules
import each other in a circle, not even through an import inside a function: that hides a
cycle, it does not break it.

The graph is read from the source with `ast`, so it sees every import, wherever it is written.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

import pytest

from bot.core.paths import ROOT

LAYERS: Tuple[Tuple[str, ...], ...] = (
    ("bot", "bot.core"),
    ("bot.storage",),
    ("bot.mail", "bot.policy", "bot.nlu"),
    ("bot.requests", "bot.support", "bot.staff"),
    ("bot.retention", "bot.fulfilment"),
    ("bot.services",),
    ("bot.conversation",),
    ("bot.rasa", "bot.web", "bot.cli", "bot.devtools", "bot.__main__", "actions"),
)

# Imports against the order that exist today, each with what it would take to remove it; given
# as (importing module or package, imported module or package), so that moving code inside a
# package does not break the test. The test fails on any other upward import, and on an entry
# here that no import matches any more (delete it, so the import cannot come back unnoticed).
KNOWN_UPWARD: Dict[Tuple[str, str], str] = {}


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def known_upward(module: str, target: str) -> Optional[Tuple[str, str]]:
    return next(
        (key for key in KNOWN_UPWARD if _within(module, key[0]) and _within(target, key[1])), None
    )


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> Dict[str, Path]:
    return {
        module_name(path): path
        for package in ("bot", "actions")
        for path in sorted((ROOT / package).rglob("*.py"))
    }


MODULES = project_modules()


def _resolve(name: str) -> Optional[str]:
    """The project module an import names: `bot.requests.store.KINDS` -> `bot.requests.store`."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _absolute(module: str, node: ast.ImportFrom) -> str:
    """The module a `from ... import` reads from, relative imports made absolute."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
    package = package[: len(package) - node.level + 1]
    return ".".join(package + ([node.module] if node.module else []))


def _targets(module: str, node: ast.AST) -> List[str]:
    """What one statement imports: `from a.b import c` is module a.b.c if there is one."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = _absolute(module, node)
        submodules = [
            f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES
        ]
        return submodules or [base]
    return []


def imports_of(module: str) -> Set[str]:
    """Every project module `module` imports, at module level or inside a function."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        for name in _targets(module, node):
            target = _resolve(name)
            if target and target != module:
                found.add(target)
    return found


GRAPH: Dict[str, Set[str]] = {module: imports_of(module) for module in MODULES}


def layer_of(module: str) -> int:
    best = None
    for rank, packages in enumerate(LAYERS):
        for package in packages:
            if _within(module, package):
                if best is None or len(package) > len(best[1]):
                    best = (rank, package)
    assert best is not None, f"{module} is in no layer: add its package to LAYERS"
    return best[0]


def upward_imports() -> Iterator[Tuple[str, str]]:
    for module, targets in sorted(GRAPH.items()):
        for target in sorted(targets):
            if layer_of(target) > layer_of(module):
                yield module, target


def cycles() -> List[List[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: List[List[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(GRAPH[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    return found


def test_every_module_is_in_a_layer():
    for module in MODULES:
        layer_of(module)


def test_no_modules_import_each_other_in_a_circle():
    assert cycles() == []


def test_nothing_imports_against_the_layer_order():
    unexpected = [
        f"{module} -> {target}"
        for module, target in upward_imports()
        if known_upward(module, target) is None
    ]
    assert unexpected == []


def test_the_known_upward_imports_are_still_there():
    """When one is removed, its entry goes too, so it cannot come back unnoticed."""
    matched = {known_upward(module, target) for module, target in upward_imports()}
    assert set(KNOWN_UPWARD) <= matched


def test_the_graph_sees_imports_inside_functions():
    assert "bot.requests.notifications" in GRAPH["bot.requests.casework"]  # imported in close()


def test_the_request_store_is_handed_its_eraser():
    """Completing a deletion erases conversations through the eraser the builder hands in
    (bot.retention's), never through an import of bot.retention."""
    assert not any(_within(target, "bot.retention") for target in GRAPH["bot.requests.store"])
    assert "bot.retention.erasure" in GRAPH["bot.services"]


@pytest.mark.parametrize(
    "module",
    [
        "bot.requests.notifications",
        "bot.requests.store",
        "bot.requests.registry",
        "bot.conversation.faults",
    ],
)
def test_a_request_module_imports_on_its_own(module):
    """In a fresh interpreter, first of all: an import cycle shows as a partly initialised
    module."""
    subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT, check=True)


def test_notifications_and_store_do_not_import_each_other():
    assert "bot.requests.store" not in GRAPH["bot.requests.notifications"]


def test_the_registry_imports_at_most_bot_core():
    assert {layer_of(target) for target in GRAPH["bot.requests.registry"]} <= {0}


def test_no_test_module_imports_another():
    """Shared test code lives in tests/support; a test module that imports another runs (and
    couples to) that module's fixtures and tests."""
    offending = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            offending += [
                f"{path.relative_to(ROOT)}: {name}"
                for name in names
                if name.startswith("tests.") and not name.startswith("tests.support")
            ]
    assert offending == []
