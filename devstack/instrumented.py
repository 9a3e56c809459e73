"""The app's composition root with every Cosmos request counted: for benchmarks and request-count tests."""

from __future__ import annotations

import warnings

from azure.cosmos import CosmosClient

from adapters.cosmos import CosmosDocumentStore, RequestCounter, connect
from bootstrap import Services
from core.containers import database_spec
from core.settings import Settings


def counted_services(settings: Settings) -> tuple[Services, RequestCounter, CosmosClient]:
    """The root, its request counter, and the counted client (for bare-SDK figures beside the app's)."""
    warnings.filterwarnings("ignore", message="Unverified HTTPS request")
    counter = RequestCounter()
    client = connect(
        settings.get("COSMOS_ENDPOINT"),
        settings.get("COSMOS_KEY"),
        verify_tls=settings.get_bool("COSMOS_TLS_VERIFY"),
        counter=counter,
    )
    services = Services.with_edges(settings, documents=CosmosDocumentStore(client, database_spec()))
    return services, counter, client
