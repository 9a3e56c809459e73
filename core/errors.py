"""Domain errors: what went wrong, in the capability's own words, with no HTTP in them.

Each capability declares small subclasses (``LinkAlreadyUsed``, ``PolicyVersionOutdated`` ...); the
HTTP edge maps each class to a status and problem type through one table (``problem_types.py``),
and queue or timer triggers log them. Messages are written by us and never hold input values: those
may be personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class FieldError:
    """One invalid field: where it is and what is wrong, never what was sent."""

    path: str
    message: str


class DomainError(Exception):
    """Base of every domain error; ``message`` is the default text, a subclass or caller may refine it."""

    message: ClassVar[str] = "The request cannot be carried out."

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.message)

    @property
    def detail(self) -> str:
        return str(self)


class NotFound(DomainError):
    message = "No such resource."


class StillChanging(DomainError):
    """A record kept changing under concurrent writers; the same call can simply be repeated."""

    message = "The record is being changed by someone else; try again."


class InvalidValues(DomainError):
    """Input that is well-formed but refers to something that does not exist (an unknown purpose)."""

    message = "One or more fields are invalid."

    def __init__(self, errors: Sequence[FieldError]) -> None:
        super().__init__()
        self.errors = tuple(errors)
