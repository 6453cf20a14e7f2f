"""The one way this project changes Rasa's own code: `replace`, checked at start.

Whatever Rasa offers an extension point for (input channels, components, tracker stores) is done
through it. Three changes have no such point and stay patches (see `bot.rasa.entry`): the action
server's replies validated with a check built once, the graph runner's task graphs built once
per model, and the apology around `RemoteAction.run`. A patch silently depends on Rasa's
internals, so each one is written for one Rasa version; on any other version, or when the
attribute it replaces is gone or has changed kind, the server stops at start with a message
saying what to check, instead of running with a patch that no longer does what it says (or that
raises on a visitor's message).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Callable, Union

WRITTEN_FOR = "3.6.21"  # the Rasa version every patch in bot.rasa.entry was written and tested for

Owner = Union[type, ModuleType]
Check = Callable[[Any], bool]


def installed_rasa_version() -> str:
    """Read at call time, so that a test can stand in another version."""
    import rasa

    return str(rasa.__version__)


def qualified_name(owner: Owner, attribute: str) -> str:
    if isinstance(owner, ModuleType):
        return f"{owner.__name__}.{attribute}"
    return f"{owner.__module__}.{owner.__qualname__}.{attribute}"


def check_version(where: str, written_for: str) -> None:
    found = installed_rasa_version()
    if found != written_for:
        raise SystemExit(
            f"Cannot start: the patch of {where} was written for Rasa {written_for}, but Rasa "
            f"{found} is installed. Install rasa=={written_for} (requirements.lock), or read "
            f"{where} in Rasa {found}, check that the patch in bot/rasa/entry.py still does what "
            f"its docstring says, and then change its `written_for` to {found!r}."
        )


def current_value(owner: Owner, attribute: str, expect: Check, where: str, written_for: str) -> Any:
    """What the patch replaces; stops the server if it is missing or not what was expected."""
    if not hasattr(owner, attribute):
        raise SystemExit(
            f"Cannot start: {where} does not exist in this Rasa (the patch was written for Rasa "
            f"{written_for}, and Rasa {installed_rasa_version()} is installed). Find what "
            f"replaced it in Rasa's source and rewrite the patch in bot/rasa/entry.py, or "
            f"install rasa=={written_for}."
        )
    value = getattr(owner, attribute)
    if not expect(value):
        raise SystemExit(
            f"Cannot start: {where} is not what the patch expects ({type(value).__name__} "
            f"{value!r}; the patch was written for Rasa {written_for}, and Rasa "
            f"{installed_rasa_version()} is installed). Read it in Rasa's source and rewrite "
            f"the patch in bot/rasa/entry.py, or install rasa=={written_for}."
        )
    return value


def replace(
    owner: Owner,
    attribute: str,
    replacement: Any,
    written_for: str = WRITTEN_FOR,
    expect: Check = callable,
) -> Any:
    """Set `owner.attribute` (a class's method, or a module's constant) to `replacement` and
    return what was there, so that the replacement can call it.

    Raises SystemExit, naming the attribute, the expected and the installed Rasa version and
    what to do, when Rasa is not `written_for`, or the attribute is missing, or fails `expect`
    (by default: it must be callable). Nothing is changed in that case.
    """
    where = qualified_name(owner, attribute)
    check_version(where, written_for)
    original = current_value(owner, attribute, expect, where, written_for)
    setattr(owner, attribute, replacement)
    return original
