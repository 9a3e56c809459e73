"""A local Azure Functions host for the v2 Python programming model, for machines without Core Tools.

It indexes a ``func.FunctionApp`` with the azure-functions library itself and serves HTTP, timer and
storage queue triggers with the real host's semantics (routes, keys, CORS, schedules, poison queues).
"""

from .catalog import FunctionInError
from .host import LocalFunctionsHost
from .options import HostConfigError

__all__ = ["FunctionInError", "HostConfigError", "LocalFunctionsHost"]
