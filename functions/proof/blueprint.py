"""Public proof's functions: the published key set, the ledger seals, and the hourly seal."""

from __future__ import annotations

import logging

import azure.functions as func

from bootstrap import services
from core.http import resource
from core.openapi import Endpoint
from functions.proof import handlers as h
from functions.proof.errors import SealNotFound
from functions.proof.models import JwksView, SealNumber, SealsView, SealView

bp = func.Blueprint()
log = logging.getLogger("privacy.proof")
TAG = "proof"

resource(
    bp,
    name="proof_jwks",
    route="proof/jwks.json",
    cors=lambda: services().banner_cors,
    handlers={
        "GET": Endpoint(
            h.get_jwks,
            "The published key set (JWKS): the vault key's enabled versions, which certify every signing key",
            response=JwksView,
            tag=TAG,
        )
    },
)
resource(
    bp,
    name="proof_seals",
    route="proof/seals",
    handlers={"GET": Endpoint(h.get_latest_seal, "The newest seal of the consent ledger", response=SealsView, tag=TAG)},
)
resource(
    bp,
    name="proof_seal",
    route="proof/seals/{sealNumber}",
    handlers={
        "GET": Endpoint(
            h.get_seal,
            "One seal of the consent ledger (signed, chained to the one before, no personal data)",
            response=SealView,
            tag=TAG,
            path={"sealNumber": SealNumber},
            errors=(SealNotFound,),
        )
    },
)


@bp.function_name("proof_seal_ledger")
@bp.timer_trigger(arg_name="timer", schedule="0 30 * * * *", run_on_startup=False)
def seal_ledger(timer: func.TimerRequest) -> None:
    record = services().ledger_sealer.seal()
    if record is None:
        log.info("ledger seal skipped (too soon, or made by another run) past_due=%s", timer.past_due)
