"""Running Rasa's graph of NLU components and policies for one message, without redoing the
same work on every message.

Rasa 3.6's `DaskGraphRunner.run` works out, on every call, which nodes the targets need
(`GraphSchema.minimal_graph_schema`, a walk of the whole schema), builds a dask task graph from
them, formats a debug line with the inputs whether or not debug logging is on, and hands the
graph to dask's synchronous scheduler. The schema never changes once the model is loaded, so
`run_cached` below builds each target list's task graph once per runner, and evaluates it in
dependency order itself: the same calls, in an order dask's synchronous scheduler may also
take, with the same results and the same exceptions (dask's synchronous `get` raises a node's
own exception; Rasa turns a RuntimeError into a GraphRunError, and so does this).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Mapping, Optional, Sequence

log = logging.getLogger("rasa.engine.runner.dask")


def is_task(value: Any) -> bool:
    """A dask task: a tuple whose first item is callable (Rasa's GraphNode); an input placeholder
    `(name, value)` is a literal."""
    return isinstance(value, tuple) and bool(value) and callable(value[0])


def run_in_order(graph: Mapping[str, Any], targets: Sequence[str]) -> List[Any]:
    """What `dask.get(graph, targets)` returns, for a graph whose tasks' arguments are keys of
    the graph (as Rasa's are) or literals. Each node runs once."""
    results: Dict[str, Any] = {}

    def value(key: str) -> Any:
        if key in results:
            return results[key]
        task = graph[key]
        if is_task(task):
            arguments = [value(a) if isinstance(a, str) and a in graph else a for a in task[1:]]
            out = task[0](*arguments)
        else:
            out = task
        results[key] = out
        return out

    return [value(target) for target in targets]


GRAPHS = "_bot_task_graphs"  # where a runner keeps its task graph per target list


def run_cached(
    self: Any, inputs: Optional[Dict[str, Any]] = None, targets: Optional[List[str]] = None
) -> Dict[str, Any]:
    """`DaskGraphRunner.run`, with each target list's task graph built once."""
    from rasa.engine.exceptions import GraphRunError

    run_targets = targets if targets else self._graph_schema.target_names
    graphs = self.__dict__.setdefault(GRAPHS, {})
    built = graphs.get(tuple(run_targets))
    if built is None:
        built = graphs[tuple(run_targets)] = self._build_dask_graph(
            self._graph_schema.minimal_graph_schema(run_targets)
        )
    run_graph = dict(built)
    if inputs:
        self._add_inputs_to_graph(inputs, run_graph)
    if log.isEnabledFor(logging.DEBUG):
        log.debug(
            f"Running graph with inputs: {inputs}, targets: {targets} "
            f"and {self._execution_context}."
        )
    try:
        return dict(run_in_order(run_graph, run_targets))
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e
