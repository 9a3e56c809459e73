"""The app's indexed functions, indexed once per test process (indexing twice is refused by the library)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import azure.functions as func

import function_app


@cache
def indexed() -> tuple[Any, ...]:
    return tuple(function_app.app.get_functions())


def http_handler(name: str) -> Callable[[func.HttpRequest], func.HttpResponse]:
    for function in indexed():
        if function.get_function_name() == name:
            user_function: Callable[[func.HttpRequest], func.HttpResponse] = function.get_user_function()
            return user_function
    raise LookupError(name)
