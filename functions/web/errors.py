"""What can go wrong serving the website's files (no HTTP here: see error_table.py)."""

from __future__ import annotations

from core.errors import NotFound


class AssetNotFound(NotFound):
    message = "No such file; the README names the current one."
