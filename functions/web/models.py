"""Path values of the website's files: a versioned file name (banner-1.0.0.js)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints

VERSIONED = r"[a-z]{1,32}-[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}"
SCRIPT_FILE = re.compile(rf"{VERSIONED}\.js")
STYLE_FILE = re.compile(rf"{VERSIONED}\.css")
ScriptFile = Annotated[str, StringConstraints(pattern=f"^{SCRIPT_FILE.pattern}$")]
StyleFile = Annotated[str, StringConstraints(pattern=f"^{STYLE_FILE.pattern}$")]
