"""The consent ledger's HTTP functions: routes, methods, security and what each can answer."""

from __future__ import annotations

import azure.functions as func

from bootstrap import services
from core.http import resource
from core.openapi import Endpoint
from functions.consent import handlers as h
from functions.consent.errors import NoPolicyPublished, PolicyVersionExists, PolicyVersionOutdated, VisitorAlreadyLinked
from functions.consent.models import (
    CatalogView,
    ConsentCheckQuery,
    ConsentStateView,
    DecisionsRequest,
    LinkVisitorRequest,
    ProofView,
    PublishVersionRequest,
    PurposeRequest,
    RecordedView,
    ServerDecisionsRequest,
    SubjectId,
    UseAnswerView,
)
from functions.consent.queries import IDEMPOTENCY_HEADER
from functions.proof.errors import ProofKeyUnavailable

bp = func.Blueprint()
RECORDING_ERRORS = (PolicyVersionOutdated, NoPolicyPublished, ProofKeyUnavailable, 503)

resource(
    bp,
    name="my_consents",
    cors=lambda: services().banner_cors,
    route="me/consents",
    handlers={
        "GET": Endpoint(
            h.get_my_consents,
            "Current consent of the signed-in user",
            response=ConsentStateView,
            security="user",
            tag="consent",
        ),
        "POST": Endpoint(
            h.record_my_consents,
            "Grant or withdraw consent for purposes",
            request=DecisionsRequest,
            response=RecordedView,
            status=201,
            replay_status=200,
            security="user",
            tag="consent",
            errors=RECORDING_ERRORS,
            headers=(IDEMPOTENCY_HEADER,),
        ),
    },
)
resource(
    bp,
    name="my_consent_proof",
    cors=lambda: services().banner_cors,
    route="me/consents/proof",
    handlers={
        "GET": Endpoint(
            h.get_my_proof,
            "The user's consent history with its hash chain verified",
            response=ProofView,
            security="user",
            tag="consent",
        ),
    },
)
resource(
    bp,
    name="link_visitor",
    route="me/consents/link",
    handlers={
        "POST": Endpoint(
            h.link_visitor,
            "Carry an anonymous visitor's consents over to the signed-in user",
            request=LinkVisitorRequest,
            response=RecordedView,
            status=201,
            replay_status=200,
            security="user",
            tag="consent",
            errors=(VisitorAlreadyLinked, NoPolicyPublished, ProofKeyUnavailable, 503),
        ),
    },
)
resource(
    bp,
    name="server_consents",
    route="consents",
    auth_level=func.AuthLevel.FUNCTION,
    handlers={
        "POST": Endpoint(
            h.record_server_consents,
            "Record consent from a product backend (source api)",
            request=ServerDecisionsRequest,
            response=RecordedView,
            status=201,
            replay_status=200,
            security="function",
            tag="consent",
            errors=RECORDING_ERRORS,
            headers=(IDEMPOTENCY_HEADER,),
        ),
    },
)
resource(
    bp,
    name="consent_check",
    route="consents/check",
    auth_level=func.AuthLevel.FUNCTION,
    handlers={
        "GET": Endpoint(
            h.check_use,
            "May this subject's data be used for this purpose now?",
            response=UseAnswerView,
            security="function",
            tag="consent",
            query=ConsentCheckQuery,
        ),
    },
)
resource(
    bp,
    name="catalog",
    route="catalog",
    cors=lambda: services().banner_cors,
    handlers={
        "GET": Endpoint(
            h.get_catalog, "Published purposes and the policy version in force", response=CatalogView, tag="catalog"
        ),
    },
)
resource(
    bp,
    name="staff_purposes",
    route="staff/purposes",
    handlers={
        "POST": Endpoint(
            h.publish_purpose,
            "Publish or update a purpose (role Privacy.Publisher)",
            request=PurposeRequest,
            response=CatalogView,
            status=201,
            security="staff",
            tag="staff",
            errors=(503,),
        ),
    },
)
resource(
    bp,
    name="staff_policy_versions",
    route="staff/policy-versions",
    body_limit=1024 * 1024,
    handlers={
        "POST": Endpoint(
            h.publish_policy_version,
            "Publish a privacy-policy version (role Privacy.Publisher)",
            request=PublishVersionRequest,
            response=CatalogView,
            status=201,
            replay_status=200,
            security="staff",
            tag="staff",
            errors=(PolicyVersionExists, 503),
        ),
    },
)
resource(
    bp,
    name="staff_subject_proof",
    route="staff/subjects/{subjectId}/consent-proof",
    handlers={
        "GET": Endpoint(
            h.get_subject_proof,
            "A subject's consent proof (role Privacy.Auditor)",
            response=ProofView,
            security="staff",
            tag="staff",
            path={"subjectId": SubjectId},
        ),
    },
)
