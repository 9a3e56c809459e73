"""Every domain error has its problem type, and the edge renders it without echoing input."""

from __future__ import annotations

import json

import azure.functions as func

import function_app  # noqa: F401 - installs the table
import function_index
from core.errors import DomainError
from core.ports import MailNotSent
from core.problem_types import PROBLEM_TYPES
from tests.app_functions import http_handler

function_index.load_all()  # every capability, and so every domain error class
ABSTRACT = {DomainError, MailNotSent}


def _all_subclasses(cls: type[DomainError]) -> set[type[DomainError]]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _all_subclasses(sub)
    return found


def test_every_domain_error_class_has_a_problem_type() -> None:
    classes = _all_subclasses(DomainError) - ABSTRACT
    assert len(classes) > 20
    missing = sorted(c.__name__ for c in classes if PROBLEM_TYPES.lookup(c) is None)
    assert missing == []


def test_problem_types_have_unique_slugs_per_status() -> None:
    rows = [PROBLEM_TYPES.lookup(c) for c in PROBLEM_TYPES.classes()]
    pairs = [(row.status, row.slug) for row in rows if row is not None]
    assert len({slug for _, slug in pairs}) == len(pairs)


def test_a_problem_names_the_route_template_never_the_path_as_sent() -> None:
    handler = http_handler("cookie_preferences")
    request = func.HttpRequest(
        method="GET",
        url="http://localhost/api/cookies/ada.lovelace@example.com",
        headers={},
        route_params={"visitorId": "ada.lovelace@example.com"},
        body=b"",
    )
    response = handler(request)
    body = json.loads(response.get_body())
    assert response.status_code == 422
    assert body["instance"] == "/api/cookies/{visitorId}"
    assert "ada.lovelace" not in response.get_body().decode()
