"""The Function App: builds the app and declares every function of every capability, nothing else.

Nothing here connects to anything: the composition root (bootstrap.py) builds each edge on first
use. Settings are checked for unresolved Key Vault references so that a misconfigured deployment
refuses to start with a message naming the settings, retention periods against the inventory and
its legal minimums, naming the rule, and the purge's lease against what its chunks need. The error
table tells the HTTP edge how each domain error reads as a problem. Each function is declared from
the index (function_index.py) and imports its capability on its first call.
"""

import azure.functions as func

import function_index
from core.problem_types import PROBLEM_TYPES
from core.settings import load_settings
from error_table import ERROR_TABLE
from functions.inventory.declaration import inventory
from functions.retention.config import RetentionConfig
from functions.retention.policy import effective_inventory

effective_inventory(inventory(), load_settings())
RetentionConfig.from_settings(load_settings())
PROBLEM_TYPES.install(ERROR_TABLE)

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
function_index.register(app)
