"""The graph runner that builds each task graph once returns what Rasa's dask runner returns:
on graphs of the shape Rasa builds, including a node that raises, and on the trained model."""

from __future__ import annotations

import asyncio

import dask
import pytest
from rasa.engine.runner.dask import DaskGraphRunner

from bot.core.settings import load_settings
from bot.rasa.graph_run import GRAPHS, run_cached, run_in_order

calls: list = []


def node(name):
    def call(*arguments):
        calls.append(name)
        return (name, [a for a in arguments])

    return call


def broken(*_):
    raise RuntimeError("a component failed")


GRAPH = {
    "nlu_tokenizer": (node("nlu_tokenizer"), "__message__"),
    "nlu_featurizer": (node("nlu_featurizer"), "nlu_tokenizer"),
    "nlu_classifier": (node("nlu_classifier"), "nlu_featurizer", "nlu_tokenizer"),
    "__message__": ("__message__", ["hello"]),
}


# Rasa hands the runner the minimal graph for its targets (every node one of theirs needs):
# dask runs every node of a graph, and so, on such a graph, does this.
@pytest.mark.parametrize(
    "targets",
    [["nlu_classifier"], ["nlu_featurizer", "nlu_classifier"], ["nlu_classifier", "__message__"]],
)
def test_the_same_results_as_dask_each_node_once(targets):
    calls.clear()
    expected = dask.get(dict(GRAPH), targets)
    dask_calls = list(calls)
    calls.clear()
    assert run_in_order(dict(GRAPH), targets) == list(expected)
    assert sorted(calls) == sorted(dask_calls) and len(calls) == len(set(calls))


def test_a_failing_node_raises_as_it_does_under_dask():
    graph = {**GRAPH, "nlu_featurizer": (broken, "nlu_tokenizer")}
    with pytest.raises(RuntimeError, match="a component failed"):
        dask.get(dict(graph), ["nlu_classifier"])
    with pytest.raises(RuntimeError, match="a component failed"):
        run_in_order(dict(graph), ["nlu_classifier"])


TEXTS = [
    "do you sell my data",
    "delete my account please",
    "jane.doe@example.com",
    "482913",
    "你们会把我的数据卖给别人吗？",
    "what is the status of DEL-7K3M9Q?",
    "hi",
    "yes",
    "is my data safe and who do you share it with?",
]


@pytest.mark.slow
def test_the_trained_model_parses_every_message_the_same(monkeypatch):
    model = load_settings().model_path
    if not model.exists():
        pytest.skip(f"no trained model at {model}: `make train`")
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))

    def parse_all():
        return [asyncio.run(agent.parse_message(text)) for text in TEXTS]

    expected = parse_all()
    monkeypatch.setattr(DaskGraphRunner, "run", run_cached)
    assert parse_all() == expected
    assert parse_all() == expected  # the second time from the task graphs built the first
    runner = agent.processor.graph_runner
    assert runner.__dict__[GRAPHS]
