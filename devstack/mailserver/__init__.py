"""A local stand-in for SendGrid's v3 Mail Send API, for the development stack.

Run ``python -m devstack.mailserver --port 8025`` and point the official SDK at it with
``SendGridAPIClient(api_key="SG.anything", host="http://127.0.0.1:8025")``. Accepted mails are
kept (optionally in ``<data-dir>/mails.jsonl``) and can be read at ``GET /_mails`` or browsed at
``/``. Nothing is ever delivered; what SendGrid would report about each mail is posted, signed, to
the Event Webhook URL given (``--event-webhook-url`` or ``PUT /_events/webhook``) and listed at
``GET /_events``.
"""

from devstack.mailserver.api import MAX_MESSAGE_BYTES
from devstack.mailserver.app import create_app

__all__ = ["MAX_MESSAGE_BYTES", "create_app"]
