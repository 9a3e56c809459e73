"""What can go wrong serving the banner (no HTTP here: see error_table.py)."""

from __future__ import annotations

from core.errors import DomainError


class CookiePurposesMissing(DomainError):
    message = "Staff must publish a purpose for each cookie category before the banner can be served."
