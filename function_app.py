"""The Function App: builds the app and registers one Blueprint per capability, nothing else.

Nothing here connects to anything: the composition root (bootstrap.py) builds each edge on first
use. Settings are checked for unresolved Key Vault references so that a misconfigured deployment
refuses to start with a message naming the settings, retention periods against the inventory and
its legal minimums, naming the rule, and the purge's lease against what its chunks need. The error
table tells the HTTP edge how each domain error reads as a problem.
"""

import azure.functions as func

from core.problem_types import PROBLEM_TYPES
from core.settings import load_settings
from error_table import ERROR_TABLE
from functions.apidocs.blueprint import bp as apidocs
from functions.audit.blueprint import bp as audit
from functions.consent.blueprint import bp as consent
from functions.cookies.blueprint import bp as cookies
from functions.fanout.blueprint import bp as fanout
from functions.health.blueprint import bp as health
from functions.incidents.blueprint import bp as incidents
from functions.inventory.declaration import inventory
from functions.notices.blueprint import bp as notices
from functions.proof.blueprint import bp as proof
from functions.requests.blueprint import bp as requests
from functions.retention.blueprint import bp as retention
from functions.retention.config import RetentionConfig
from functions.retention.policy import effective_inventory
from functions.web.blueprint import bp as web

effective_inventory(inventory(), load_settings())
RetentionConfig.from_settings(load_settings())
PROBLEM_TYPES.install(ERROR_TABLE)

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
for blueprint in (
    consent,
    cookies,
    requests,
    retention,
    incidents,
    fanout,
    notices,
    proof,
    web,
    audit,
    health,
    apidocs,
):
    app.register_functions(blueprint)
