"""A local Azure Functions host for the v2 Python programming model, for machines without Core Tools.

It indexes a ``func.FunctionApp`` with the azure-functions library itself and serves exactly what the
app uses, with the real host's semantics: HTTP routes and keys, NCRONTAB timers, storage queue
triggers with poison queues, and the admin API's on-demand runs. Anything else is refused at start-up.
"""

from .host import LocalFunctionsHost
from .options import HostConfigError

__all__ = ["HostConfigError", "LocalFunctionsHost"]
