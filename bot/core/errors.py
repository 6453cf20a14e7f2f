"""Domain errors as codes: a refusal names its case and carries the values that go with it, and
each reader is told it in their own language from the catalogue (`errors.<group>.<code>`), by
the page or the chat that shows it. A sentence written into an exception could only be English.
"""

from __future__ import annotations

from typing import Any, ClassVar

from bot.core.texts import DEFAULT_LANGUAGE, text


class CodedError(ValueError):
    """A refusal: `code` names the case within the class's `group`, `values` fill its text.
    Its message, for logs and tests, is the code and the text in the default language."""

    group: ClassVar[str]

    def __init__(self, code: str, **values: Any) -> None:
        said = text(f"errors.{self.group}.{code}", DEFAULT_LANGUAGE, **values)
        super().__init__(f"{code}: {said}")
        self.code = code
        self.values = values

    @property
    def key(self) -> str:
        """The catalogue's text for this refusal, to say it in a reader's language."""
        return f"errors.{self.group}.{self.code}"
