"""The visitor id cookie as the API sets it when it is served under the website's own domain.

Browsers that cap cookies written by script at seven days (Safari's ITP) keep a cookie that a
first-party server sets with ``Set-Cookie``; so where the API shares the site's domain, it sets the
visitor id itself. The value is a visitor id that already passed its pattern, so it cannot break the
header.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class VisitorCookie:
    name: str
    domain: str
    max_age: timedelta

    def header(self, visitor_id: str) -> str:
        return (
            f"{self.name}={visitor_id}; Domain={self.domain}; Path=/; Max-Age={int(self.max_age.total_seconds())}; "
            "Secure; SameSite=Lax"
        )
