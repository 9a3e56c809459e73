"""Route templates of the forms the app uses: literal segments and whole-segment ``{name}`` parameters.

The other forms of ASP.NET route templates (optional, default, constrained, catch-all and complex
segments) are refused when the host starts: a route then never matches here in a way it would not
in Azure. Literal segments match case-insensitively, and at each segment a literal beats a
parameter, as in the host's route precedence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .options import HostConfigError

_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_LITERAL, _PARAMETER_RANK = 1, 3  # ASP.NET's inbound precedence digits


@dataclass(frozen=True)
class Segment:
    text: str  # the literal, or the parameter's name
    is_parameter: bool


def _unsupported_form(text: str) -> str:
    inner = text[1:-1] if text.startswith("{") and text.endswith("}") and text.count("{") == 1 else None
    if inner is None:
        return "a complex segment"
    if inner.startswith("*"):
        return "a catch-all parameter"
    if ":" in inner:
        return "a constrained parameter"
    if "=" in inner:
        return "a parameter with a default"
    if inner.endswith("?"):
        return "an optional parameter"
    return "a parameter name other than letters, digits and _"


def _parse_segment(text: str, template: str) -> Segment:
    if "{" not in text and "}" not in text:
        return Segment(text, is_parameter=False)
    if found := _PARAMETER.fullmatch(text):
        return Segment(found.group(1), is_parameter=True)
    raise HostConfigError(
        f"route {template!r} uses {_unsupported_form(text)} ({text}), which the local host does not support; "
        "use literal segments and {name} parameters"
    )


class RouteTemplate:
    def __init__(self, template: str) -> None:
        self.template = template.strip("/")
        self.segments = tuple(_parse_segment(text, self.template) for text in self.template.split("/") if text)
        names = [segment.text.lower() for segment in self.segments if segment.is_parameter]
        if len(set(names)) != len(names):
            raise HostConfigError(f"route {self.template!r} uses a parameter name twice")
        self.precedence = tuple(_PARAMETER_RANK if s.is_parameter else _LITERAL for s in self.segments)

    def match(self, path_segments: Sequence[str]) -> dict[str, str] | None:
        """Route values when the decoded path segments fit this template, else None."""
        if len(path_segments) != len(self.segments):
            return None
        values: dict[str, str] = {}
        for segment, text in zip(self.segments, path_segments, strict=True):
            if not segment.is_parameter:
                if segment.text.casefold() != text.casefold():
                    return None
            elif not text:
                return None
            else:
                values[segment.text] = text
        return values
