"""Route templates as the Functions host reads them (ASP.NET Core route template syntax).

Supported: literal segments (matched case-insensitively), {name}, optional {name?}, defaults
{name=value}, inline constraints {id:int}, {id:int:min(1)}, {code:regex(^[a-z]{{2}}$)}, catch-all
{*rest} / {**rest}, and complex segments such as {name}.{ext?}. Routes are tried in the order of
ASP.NET's inbound precedence: literal segments beat constrained parameters, which beat plain
parameters, which beat catch-alls.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .options import HostConfigError

Constraint = Callable[[str], bool]
_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")
_DECIMAL = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$")
_ALPHA = re.compile(r"^[a-z]+$", re.IGNORECASE)
_GUID_FORMS = (
    re.compile(r"^[0-9a-f]{32}$", re.IGNORECASE),
    re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE),
    re.compile(r"^\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}$", re.IGNORECASE),
    re.compile(r"^\([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\)$", re.IGNORECASE),
)


def _integer_in(bounds: tuple[int, int]) -> Constraint:
    return lambda value: bool(_INTEGER.match(value)) and bounds[0] <= int(value) <= bounds[1]


def _is_float(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def _is_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_guid(value: str) -> bool:
    return any(form.match(value) for form in _GUID_FORMS)


def _is_file(value: str) -> bool:
    last = value.rsplit("/", 1)[-1]
    return "." in last.strip(".")


def _numbers(arguments: str, count: int, name: str) -> list[int]:
    parts = [part.strip() for part in arguments.split(",")] if arguments else []
    if len(parts) != count or not all(_INTEGER.match(part) for part in parts):
        raise HostConfigError(f"route constraint {name} needs {count} whole number(s), got ({arguments})")
    return [int(part) for part in parts]


def _length_constraint(arguments: str) -> Constraint:
    if "," in arguments:
        low, high = _numbers(arguments, 2, "length")
        return lambda value: low <= len(value) <= high
    (exact,) = _numbers(arguments, 1, "length")
    return lambda value: len(value) == exact


def _bounded_integer(low: int, high: int) -> Constraint:
    return lambda value: _integer_in(_INT64)(value) and low <= int(value) <= high


def _make_constraint(name: str, arguments: str | None) -> Constraint:
    args = arguments or ""
    simple: dict[str, Constraint] = {
        "int": _integer_in(_INT32),
        "long": _integer_in(_INT64),
        "bool": lambda value: value.strip().lower() in {"true", "false"},
        "guid": _is_guid,
        "alpha": lambda value: bool(_ALPHA.match(value)),
        "decimal": lambda value: bool(_DECIMAL.match(value)) and Decimal(value.strip()).is_finite(),
        "double": _is_float,
        "float": _is_float,
        "datetime": _is_datetime,
        "required": lambda value: value != "",
        "file": _is_file,
        "nonfile": lambda value: not _is_file(value),
    }
    lowered = name.lower()
    if lowered in simple and arguments is None:
        return simple[lowered]
    if lowered == "minlength":
        (low,) = _numbers(args, 1, name)
        return lambda value: len(value) >= low
    if lowered == "maxlength":
        (high,) = _numbers(args, 1, name)
        return lambda value: len(value) <= high
    if lowered == "length":
        return _length_constraint(args)
    if lowered == "min":
        return _bounded_integer(_numbers(args, 1, name)[0], _INT64[1])
    if lowered == "max":
        return _bounded_integer(_INT64[0], _numbers(args, 1, name)[0])
    if lowered == "range":
        low, high = _numbers(args, 2, name)
        return _bounded_integer(low, high)
    if lowered == "regex":
        # Like ASP.NET: not anchored unless the expression anchors itself, and case-insensitive.
        pattern = re.compile(args, re.IGNORECASE)
        return lambda value: pattern.search(value) is not None
    raise HostConfigError(f"route constraint {name!r} is not known")


@dataclass(frozen=True)
class Parameter:
    name: str
    constraints: tuple[Constraint, ...] = ()
    optional: bool = False
    catch_all: bool = False
    default: str | None = None

    def accepts(self, value: str) -> bool:
        return all(constraint(value) for constraint in self.constraints)

    @property
    def may_be_absent(self) -> bool:
        return self.optional or self.catch_all or self.default is not None


SegmentPart = str | Parameter


@dataclass(frozen=True)
class Segment:
    parts: tuple[SegmentPart, ...]

    @property
    def literal(self) -> str | None:
        only = self.parts[0] if len(self.parts) == 1 else None
        return only if isinstance(only, str) else None

    @property
    def parameter(self) -> Parameter | None:
        only = self.parts[0] if len(self.parts) == 1 else None
        return only if isinstance(only, Parameter) else None

    def precedence_digit(self) -> int:
        """ASP.NET's inbound precedence: 1 literal, 2 complex, 3 parameter, 5 catch-all; a constraint takes 1 off."""
        if len(self.parts) > 1:
            return 2
        parameter = self.parameter
        if parameter is None:
            return 1
        digit = 5 if parameter.catch_all else 3
        return digit - 1 if parameter.constraints else digit


def _split_template_segments(template: str) -> list[str]:
    """Splits on '/' outside braces, so a regex constraint may contain a slash."""
    segments: list[str] = []
    current: list[str] = []
    depth = 0
    for char in template:
        if char == "/" and depth == 0:
            segments.append("".join(current))
            current = []
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        current.append(char)
    segments.append("".join(current))
    return segments


def _parse_segment(text: str, template: str) -> Segment:
    parts: list[SegmentPart] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        pair = text[i : i + 2]
        if pair in {"{{", "}}"}:
            literal.append(pair[0])
            i += 2
            continue
        if text[i] == "}":
            raise HostConfigError(f"route {template!r} has an unmatched '}}'")
        if text[i] != "{":
            literal.append(text[i])
            i += 1
            continue
        if literal:
            parts.append("".join(literal))
            literal = []
        end = _closing_brace(text, i + 1, template)
        parts.append(_parse_parameter(text[i + 1 : end].replace("}}", "}").replace("{{", "{"), template))
        i = end + 1
    if literal:
        parts.append("".join(literal))
    _check_segment(parts, template)
    return Segment(tuple(parts))


def _closing_brace(text: str, start: int, template: str) -> int:
    i = start
    while i < len(text):
        if text[i] == "}" and text[i : i + 2] == "}}":
            i += 2
            continue
        if text[i] == "}":
            return i
        i += 1
    raise HostConfigError(f"route {template!r} has an unmatched '{{'")


def _parse_parameter(inner: str, template: str) -> Parameter:
    catch_all = inner.startswith("*")
    inner = inner.lstrip("*")
    optional = inner.endswith("?")
    inner = inner.removesuffix("?")
    inner, default = _split_default(inner)
    name, _, constraint_text = inner.partition(":")
    if not name or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.\-]*", name):
        raise HostConfigError(f"route {template!r} has a parameter without a usable name: {{{inner}}}")
    constraints = tuple(_make_constraint(n, a) for n, a in _constraint_specs(constraint_text, template))
    return Parameter(name, constraints, optional, catch_all, default)


def _split_default(inner: str) -> tuple[str, str | None]:
    """Splits {name:constraint(args)=default}, ignoring '=' inside constraint arguments."""
    depth = 0
    for i, char in enumerate(inner):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "=" and depth == 0:
            return inner[:i], inner[i + 1 :]
    return inner, None


def _constraint_specs(text: str, template: str) -> list[tuple[str, str | None]]:
    """'int:min(1):regex(^a:b$)' -> [('int', None), ('min', '1'), ('regex', '^a:b$')]."""
    specs: list[tuple[str, str | None]] = []
    i = 0
    while i < len(text):
        match = re.match(r"[A-Za-z]+", text[i:])
        if match is None:
            raise HostConfigError(f"route {template!r} has a malformed constraint {text!r}")
        name = match.group(0)
        i += len(name)
        arguments = None
        if text[i : i + 1] == "(":
            close = _argument_end(text, i + 1)
            if close < 0:
                raise HostConfigError(f"route {template!r} has an unclosed constraint {name}(")
            arguments = text[i + 1 : close]
            i = close + 1
        specs.append((name, arguments))
        if i < len(text) and text[i] != ":":
            raise HostConfigError(f"route {template!r} has a malformed constraint {text!r}")
        i += 1
    return specs


def _argument_end(text: str, start: int) -> int:
    """ASP.NET ends constraint arguments at a ')' that closes the constraint: followed by ':' or nothing."""
    for i in range(start, len(text)):
        if text[i] == ")" and (i + 1 == len(text) or text[i + 1] == ":"):
            return i
    return -1


def _check_segment(parts: list[SegmentPart], template: str) -> None:
    parameters = [part for part in parts if isinstance(part, Parameter)]
    if len(parts) > 1 and any(p.catch_all for p in parameters):
        raise HostConfigError(f"route {template!r}: a catch-all parameter must be a whole segment")
    for first, second in itertools.pairwise(parts):
        if isinstance(first, Parameter) and isinstance(second, Parameter):
            raise HostConfigError(f"route {template!r}: two parameters need a literal between them")
    if len(parts) > 1 and any(p.optional for p in parameters[:-1]):
        raise HostConfigError(f"route {template!r}: only the last parameter of a segment may be optional")


class RouteTemplate:
    def __init__(self, template: str) -> None:
        self.template = template.strip("/")
        self.segments: tuple[Segment, ...] = tuple(
            _parse_segment(text, self.template) for text in _split_template_segments(self.template) if text
        )
        self._check_shape()
        self.precedence = sum(
            (Decimal(s.precedence_digit()) / Decimal(10) ** i for i, s in enumerate(self.segments)),
            Decimal(0),
        )
        self._complex_patterns = {i: _complex_pattern(s) for i, s in enumerate(self.segments) if len(s.parts) > 1}

    def _check_shape(self) -> None:
        for i, segment in enumerate(self.segments):
            parameter = segment.parameter
            if parameter and parameter.catch_all and i != len(self.segments) - 1:
                raise HostConfigError(f"route {self.template!r}: a catch-all must be the last segment")
            if (
                parameter
                and parameter.optional
                and not all(s.parameter and s.parameter.may_be_absent for s in self.segments[i:])
            ):
                raise HostConfigError(f"route {self.template!r}: an optional parameter must be at the end")

    def match(self, path_segments: Sequence[str]) -> dict[str, str] | None:
        """Route values when the (decoded) path segments fit this template, else None."""
        values: dict[str, str] = {}
        for i, segment in enumerate(self.segments):
            parameter = segment.parameter
            if parameter is not None and parameter.catch_all:
                return values if self._bind_catch_all(parameter, path_segments[i:], values) else None
            if i >= len(path_segments):
                return values if self._bind_absent(self.segments[i:], values) else None
            if not self._bind_segment(i, segment, path_segments[i], values):
                return None
        return values if len(path_segments) == len(self.segments) else None

    def _bind_segment(self, index: int, segment: Segment, text: str, values: dict[str, str]) -> bool:
        if segment.literal is not None:
            return segment.literal.casefold() == text.casefold()
        if segment.parameter is not None:
            return _bind(segment.parameter, text, values)
        found = self._complex_patterns[index].fullmatch(text)
        if found is None:
            return False
        parameters = [part for part in segment.parts if isinstance(part, Parameter)]
        return all(
            _bind(p, found.group(f"p{n}"), values) if found.group(f"p{n}") is not None else _bind_default(p, values)
            for n, p in enumerate(parameters)
        )

    @staticmethod
    def _bind_catch_all(parameter: Parameter, rest: Sequence[str], values: dict[str, str]) -> bool:
        text = "/".join(rest)
        if not text:
            return _bind_default(parameter, values)
        return _bind(parameter, text, values)

    @staticmethod
    def _bind_absent(segments: Sequence[Segment], values: dict[str, str]) -> bool:
        for segment in segments:
            parameter = segment.parameter
            if parameter is None or not parameter.may_be_absent:
                return False
            _bind_default(parameter, values)
        return True


def _bind(parameter: Parameter, text: str, values: dict[str, str]) -> bool:
    if text == "" or not parameter.accepts(text):
        return False
    values[parameter.name] = text
    return True


def _bind_default(parameter: Parameter, values: dict[str, str]) -> bool:
    if parameter.default is not None:
        values[parameter.name] = parameter.default
    return True


def _complex_pattern(segment: Segment) -> re.Pattern[str]:
    """A segment like {name}.{ext?}, matched as ASP.NET does: from the right, at the last literal.

    Greedy parameters give that split. An optional last parameter must not span its literal, and the
    parameter before it is lazy, so the tail is taken whenever the segment has one.
    """
    parts = segment.parts
    tail_is_optional = isinstance(parts[-1], Parameter) and parts[-1].optional
    pieces: list[str] = []
    index = 0
    for position, part in enumerate(parts):
        before_tail = tail_is_optional and position == len(parts) - 3
        if isinstance(part, str):
            opens_tail = tail_is_optional and position == len(parts) - 2
            pieces.append(f"(?:{re.escape(part)}" if opens_tail else re.escape(part))
        elif tail_is_optional and position == len(parts) - 1:
            pieces.append(f"(?P<p{index}>(?:(?!{re.escape(str(parts[position - 1]))}).)+))?")
        else:
            pieces.append(f"(?P<p{index}>.+?)" if before_tail else f"(?P<p{index}>.+)")
        index += isinstance(part, Parameter)
    return re.compile("".join(pieces), re.IGNORECASE)
