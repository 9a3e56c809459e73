"""HTTP handlers of public proof: the published key set and the ledger seals, for anyone."""

from __future__ import annotations

from typing import Any

import azure.functions as func
from pydantic import TypeAdapter, ValidationError

from bootstrap import services
from core import problems
from core.errors import FieldError
from core.http import RequestContext, model_response
from functions.proof.errors import SealNotFound
from functions.proof.inclusion import seal_view
from functions.proof.models import JwksView, SealNumber, SealsView

KEY_SET_CACHE = "public, max-age=600"  # as long as an instance keeps the key set itself
SEAL_CACHE = "public, max-age=31536000, immutable"  # a seal never changes


def get_jwks(ctx: RequestContext) -> func.HttpResponse:
    ctx.response_headers["Cache-Control"] = KEY_SET_CACHE
    return model_response(JwksView.model_validate(services().key_set.published().jwks()))


def _seal_number(ctx: RequestContext) -> int:
    adapter: TypeAdapter[Any] = TypeAdapter(SealNumber)
    try:
        return int(adapter.validate_python(ctx.route_param("sealNumber")))
    except ValidationError:
        raise problems.validation_failed(
            [FieldError("path/sealNumber", "must be a seal number (1-12 digits)")]
        ) from None


def get_seal(ctx: RequestContext) -> func.HttpResponse:
    record = services().seal_records.get(_seal_number(ctx))
    if record is None:
        raise SealNotFound()
    ctx.response_headers["Cache-Control"] = SEAL_CACHE
    return model_response(seal_view(record))


def get_latest_seal(ctx: RequestContext) -> func.HttpResponse:
    record = services().seal_records.latest()
    ctx.response_headers["Cache-Control"] = "no-cache"
    return model_response(SealsView(latest=seal_view(record) if record else None))
