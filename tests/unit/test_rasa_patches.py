"""A patch of Rasa's internals is applied only on the Rasa it was written for, to an attribute
that is there and of the expected kind; otherwise the server stops at start, saying why."""

from __future__ import annotations

import types

import pytest
import rasa
import rasa.core.actions.action as rasa_action
import rasa.utils.endpoints as rasa_endpoints
from rasa.core.actions.action import RemoteAction

import bot.rasa.entry as rasa_entry
from bot.rasa import patches
from bot.rasa.patches import replace


class Owner:
    def method(self) -> str:
        return "original"

    not_callable = 5


def new_method(self) -> str:
    return "replaced"


@pytest.fixture
def owner(monkeypatch):
    monkeypatch.setattr(Owner, "method", Owner.method)
    return Owner


@pytest.fixture
def rasa_patched_attributes_restored(monkeypatch):
    for name in ("run", "_validate_action_result"):
        monkeypatch.setattr(RemoteAction, name, getattr(RemoteAction, name))
    for module in (rasa_action, rasa_endpoints):
        monkeypatch.setattr(module, "DEFAULT_REQUEST_TIMEOUT", module.DEFAULT_REQUEST_TIMEOUT)


def test_written_for_the_installed_rasa():
    """If this fails, Rasa was upgraded: check every patch in bot/rasa/entry.py first."""
    assert patches.WRITTEN_FOR == rasa.__version__ == "3.6.21"


def test_replaces_and_returns_the_original(owner):
    original = replace(owner, "method", new_method)
    assert owner().method() == "replaced"
    assert original(owner()) == "original"


def test_a_module_constant_with_its_own_check(monkeypatch):
    module = types.ModuleType("fake_rasa_module")
    module.TIMEOUT = 300
    assert replace(module, "TIMEOUT", 10.0, expect=rasa_entry.is_number) == 300
    assert module.TIMEOUT == 10.0


def test_another_rasa_version_stops_the_server_and_changes_nothing(owner, monkeypatch):
    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with pytest.raises(SystemExit) as stopped:
        replace(owner, "method", new_method)
    message = str(stopped.value)
    assert f"{__name__}.Owner.method" in message
    assert "written for Rasa 3.6.21" in message and "Rasa 3.7.0 is installed" in message
    assert "rasa==3.6.21" in message and "written_for" in message  # what to do
    assert owner().method() == "original"


def test_a_patch_written_for_another_version_stops_the_server(owner):
    with pytest.raises(SystemExit, match="written for Rasa 3.5.0, but Rasa 3.6.21 is installed"):
        replace(owner, "method", new_method, written_for="3.5.0")
    assert owner().method() == "original"


def test_a_missing_attribute_stops_the_server_and_adds_nothing(owner):
    with pytest.raises(SystemExit) as stopped:
        replace(owner, "renamed_in_a_later_rasa", new_method)
    message = str(stopped.value)
    assert f"{__name__}.Owner.renamed_in_a_later_rasa does not exist" in message
    assert "3.6.21" in message and "rewrite the patch" in message
    assert not hasattr(owner, "renamed_in_a_later_rasa")


def test_an_attribute_of_another_kind_stops_the_server(owner):
    with pytest.raises(SystemExit, match=r"Owner\.not_callable is not what the patch expects"):
        replace(owner, "not_callable", new_method)
    assert owner.not_callable == 5
    module = types.ModuleType("fake_rasa_module")
    module.TIMEOUT = "300"
    with pytest.raises(SystemExit, match="fake_rasa_module.TIMEOUT is not what the patch expects"):
        replace(module, "TIMEOUT", 10.0, expect=rasa_entry.is_number)


# -- the project's own patches, through the helper -------------------------------------------


def test_the_entry_patches_apply_on_this_rasa(rasa_patched_attributes_restored, set_env):
    set_env(ACTION_TIMEOUT_SECONDS="7")
    rasa_entry.cache_action_response_validation()
    rasa_entry.guard_remote_actions()
    assert RemoteAction.run.__module__ == "bot.rasa.entry"
    assert RemoteAction._validate_action_result.__module__ == "bot.rasa.entry"
    assert rasa_action.DEFAULT_REQUEST_TIMEOUT == rasa_endpoints.DEFAULT_REQUEST_TIMEOUT == 7.0


def test_the_entry_patches_refuse_another_rasa(rasa_patched_attributes_restored, monkeypatch):
    run, validate = RemoteAction.run, RemoteAction._validate_action_result
    monkeypatch.setattr(rasa, "__version__", "4.0.0")
    for install in (rasa_entry.cache_action_response_validation, rasa_entry.guard_remote_actions):
        with pytest.raises(SystemExit, match="Rasa 4.0.0 is installed"):
            install()
    assert RemoteAction.run is run and RemoteAction._validate_action_result is validate


def test_a_rasa_without_the_patched_method_stops_at_start(
    rasa_patched_attributes_restored, monkeypatch
):
    monkeypatch.delattr(RemoteAction, "_validate_action_result")
    with pytest.raises(
        SystemExit,
        match=r"rasa\.core\.actions\.action\.RemoteAction\."
        r"_validate_action_result does not exist",
    ):
        rasa_entry.cache_action_response_validation()
