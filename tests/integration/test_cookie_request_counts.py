"""The banner's hot path costs what the design promises: counted at the SDK, against the stand-in."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import azure.functions as func
import pytest

from adapters.cosmos import RequestCounter
from bootstrap import Services, use_services
from core.settings import Settings
from devstack.instrumented import counted_services
from tests.app_functions import http_handler

pytestmark = pytest.mark.integration


@pytest.fixture
def counted(app_settings: dict[str, str]) -> Iterator[tuple[Services, RequestCounter]]:
    svc, counter, _ = counted_services(Settings(app_settings))
    use_services(svc)
    yield svc, counter
    use_services(None)


def test_reading_costs_one_point_read_and_saving_at_most_three(counted: tuple[Services, RequestCounter]) -> None:
    svc, counter = counted
    cookies = http_handler("cookie_preferences")
    vid = secrets.token_urlsafe(18)
    url = f"http://localhost/api/cookies/{vid}"
    version = svc.catalog.current().require_current_version().version  # warms the catalog cache
    svc.active_notices.active()  # and the notice board's, which the read's answer carries
    body = {"categories": {"functional": True, "analytics": True, "marketing": False}, "policyVersion": version}

    def save() -> func.HttpResponse:
        return cookies(
            func.HttpRequest(
                "PUT",
                url,
                headers={"content-type": "application/json"},
                route_params={"visitorId": vid},
                body=json.dumps(body).encode(),
            )
        )

    def read() -> func.HttpResponse:
        return cookies(func.HttpRequest("GET", url, headers={}, route_params={"visitorId": vid}, body=b""))

    for operation, most in ((save, 3), (save, 3), (read, 1)):  # first save creates, the second replaces
        counter.reset()
        response = operation()
        assert response.status_code == 200, response.get_body()
        assert 1 <= counter.document_requests <= most
        if operation is read:
            assert counter.document_requests == 1
            answer = json.loads(response.get_body())
            assert answer["categories"]["analytics"] is True
            assert isinstance(answer["notices"], list)
