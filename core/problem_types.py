"""Domain error class → problem type (status, slug, title): how the HTTP edge renders domain errors.

The table itself is written once, above every capability (``error_table.py`` beside
``function_app.py``), and installed here when the app is built; the edge and the OpenAPI document
read it from here. A class that is not in the table is a bug: it renders as a 500 and is logged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.errors import DomainError, InvalidValues
from core.problems import Problem


@dataclass(frozen=True)
class ProblemType:
    status: int
    slug: str
    title: str
    headers: Mapping[str, str] = field(default_factory=dict)
    # Extra members of the problem body taken from the error (e.g. the policy version in force).
    extensions: Callable[[Any], Mapping[str, Any]] | None = None
    example: Mapping[str, Any] = field(default_factory=dict)  # those members as the OpenAPI example shows them


class ProblemTypes:
    def __init__(self) -> None:
        self._types: dict[type[DomainError], ProblemType] = {}

    def install(self, table: Mapping[type[DomainError], ProblemType]) -> None:
        self._types.update(table)

    def lookup(self, error_class: type[DomainError]) -> ProblemType | None:
        for klass in error_class.__mro__:
            found = self._types.get(klass)
            if found is not None:
                return found
        return None

    def problem(self, error: DomainError) -> Problem | None:
        kind = self.lookup(type(error))
        if kind is None:
            return None
        return Problem(
            kind.status,
            kind.slug,
            kind.title,
            error.detail,
            errors=error.errors if isinstance(error, InvalidValues) else (),
            headers=dict(kind.headers),
            extensions=dict(kind.extensions(error)) if kind.extensions else {},
        )

    def classes(self) -> list[type[DomainError]]:
        return list(self._types)


PROBLEM_TYPES = ProblemTypes()
