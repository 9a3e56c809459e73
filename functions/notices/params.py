"""Who calls, and which record a path names: shared by the notices handlers."""

from __future__ import annotations

from bootstrap import services
from core.auth import Principal, require_role
from core.errors import NotFound
from core.http import RequestContext
from functions.notices.ids import UUID


def staff_principal(ctx: RequestContext, role: str) -> Principal:
    principal = services().staff_tokens.principal_from_header(ctx.header("authorization"))
    require_role(principal, role)
    return principal


def user_principal(ctx: RequestContext) -> Principal:
    return services().user_tokens.principal_from_header(ctx.header("authorization"))


def uuid_param(ctx: RequestContext, name: str, not_found: type[NotFound]) -> str:
    """A record id from the path: anything but an id the service writes names no record."""
    value = ctx.route_param(name)
    if not UUID.fullmatch(value):
        raise not_found()
    return value
