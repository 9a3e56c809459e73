"""The composition root: builds every edge and use case once, lazily, on first use.

It sits above everything (beside ``function_app.py``): capabilities and ``core/`` never import it,
only triggers do. Nothing here connects at import time, so indexing the function app stays fast and
a missing setting surfaces on the first call that needs it, with the setting's name.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta
from functools import cached_property
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from core.audit import AuditTrail
from core.auth import TokenPolicy, TokenValidator
from core.clock import SystemClock
from core.containers import database_spec
from core.http import CorsPolicy
from core.keyring import KeyRing, StaticKeyRing
from core.ports import Clock, DocumentStore, Mailer, WorkQueue
from core.settings import Settings, SettingsError, load_settings
from functions.consent.catalog_repository import CatalogRepository
from functions.consent.ledger_repository import ConsentLedger
from functions.cookies.preferences import decision_max_age
from functions.cookies.visitor_cookie import VisitorCookie

if TYPE_CHECKING:
    from functions.fanout.batches import BatchRepository
    from functions.fanout.dispatch import FanOut, FanOutConfig
    from functions.fanout.events import DeliveryEvents
    from functions.fanout.mailing import Mailing
    from functions.fanout.ports import BulkMailer, EventSignatures
    from functions.incidents.config import IncidentConfig
    from functions.incidents.deadline_watch import DeadlineWatch
    from functions.incidents.repository import IncidentRepository
    from functions.incidents.selection import RecipientSelection
    from functions.incidents.staff import IncidentStaff
    from functions.inventory.declaration import Inventory
    from functions.inventory.locations import StoredLocation
    from functions.inventory.ports import ArchiveStore, MarketingContacts, PaymentsGateway
    from functions.notices.allowed import AllowedSubjects
    from functions.notices.board import NoticeBoard
    from functions.notices.board_cache import BoardCache
    from functions.notices.devices import Devices
    from functions.notices.disclosures import DisclosureRegister
    from functions.notices.marketing_sync import MarketingSync
    from functions.notices.notices_repository import NoticeRepository
    from functions.notices.opt_outs import OptOuts
    from functions.notices.ports import Directory, SuppressionGroups
    from functions.notices.unsubscribe import UnsubscribeLinks
    from functions.proof.inclusion import SealInclusion
    from functions.proof.issuing import ConsentReceipts
    from functions.proof.keyset import KeySet
    from functions.proof.ports import AppendOnlyStore, RootKey
    from functions.proof.sealing import LedgerSealer, SealRecords
    from functions.proof.signer import DocumentSigner
    from functions.requests.deadline_review import DeadlineReview
    from functions.requests.downloads import ExportDownloads
    from functions.requests.hold_support import RequestsUnderHold
    from functions.requests.intake import RequestIntake
    from functions.requests.parts import RequestParts
    from functions.requests.ports import Profiles
    from functions.requests.resolve import SubjectResolver
    from functions.requests.staff import RequestStaff
    from functions.requests.worker import StepWorker
    from functions.retention.follow_up import HoldFollowUp
    from functions.retention.hold_repository import LegalHoldRepository
    from functions.retention.parts import RetentionParts
    from functions.retention.purge import RetentionRun
    from functions.retention.staff import RetentionStaff


class Services:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()

    @classmethod
    def with_edges(cls, settings: Settings, clock: Clock | None = None, **edges: object) -> Services:
        """The same wiring over other edges (``documents=``, ``mailer=`` ...): in-memory fakes in unit
        tests, counted clients in benchmarks. Each name must be one of the edges below."""
        services = cls(settings, clock)
        for name, edge in edges.items():
            if not isinstance(getattr(cls, name, None), cached_property):
                raise AttributeError(f"Services has no edge named {name}")
            services.__dict__[name] = edge
        return services

    # ---- edges -------------------------------------------------------------------------------

    @cached_property
    def documents(self) -> DocumentStore:
        from adapters.cosmos import CosmosDocumentStore, connect

        client = connect(
            self.settings.get("COSMOS_ENDPOINT"),
            self.settings.get("COSMOS_KEY"),
            verify_tls=self.settings.get_bool("COSMOS_TLS_VERIFY"),
        )
        return CosmosDocumentStore(client, database_spec())

    @cached_property
    def work_queue(self) -> WorkQueue:
        from adapters.storage import StorageWorkQueue, queue_service

        return StorageWorkQueue(queue_service(self.settings))

    @cached_property
    def mailer(self) -> Mailer:
        from adapters.sendgrid_email import SendGridMailer

        return SendGridMailer.from_settings(self.settings)

    @cached_property
    def archives(self) -> ArchiveStore:
        from adapters.blob_archives import BlobArchiveStore

        return BlobArchiveStore.from_settings(self.settings)

    @cached_property
    def payments(self) -> PaymentsGateway:
        from adapters.stripe_payments import StripePayments

        return StripePayments.from_settings(self.settings)

    @cached_property
    def contacts(self) -> MarketingContacts:
        from adapters.sendgrid_email import SendGridMarketingContacts

        return SendGridMarketingContacts.from_settings(self.settings)

    @cached_property
    def suppression_groups(self) -> SuppressionGroups:
        from adapters.sendgrid_email import SendGridSuppressionGroups

        return SendGridSuppressionGroups.from_settings(self.settings)

    @cached_property
    def signing_keys(self) -> KeyRing:
        vault = self.settings.get("KEY_VAULT_URI")
        if vault:
            from adapters.keyvault_keys import KeyVaultKeyRing

            return KeyVaultKeyRing.connect(vault, self.settings.get("SIGNING_KEY_SECRET_NAME"))
        return StaticKeyRing(self.settings.get("SIGNING_KEYS"))

    @cached_property
    def root_key(self) -> RootKey:
        """The proof key: a Key Vault key in Azure, the local stack's key file otherwise."""
        vault = self.settings.get("KEY_VAULT_URI")
        if vault:
            from adapters.keyvault_signing import KeyVaultRootKey

            return KeyVaultRootKey.connect(vault, self.settings.get("PROOF_KEY_NAME"))
        from pathlib import Path

        from adapters.keyfile_signing import KeyFileRootKey

        path = self.settings.get("PROOF_KEY_FILE")
        if not path:
            raise SettingsError("app setting PROOF_KEY_FILE is required when KEY_VAULT_URI is empty (local stack)")
        return KeyFileRootKey(Path(path))

    @cached_property
    def seal_archive(self) -> AppendOnlyStore:
        from adapters.append_only_blobs import BlobAppendOnlyStore, seal_blob_service
        from functions.proof.seal_record import SEALS_CONTAINER

        return BlobAppendOnlyStore(seal_blob_service(self.settings), SEALS_CONTAINER)

    @cached_property
    def pepper(self) -> str:
        return self.settings.get("SUBJECT_HASH_PEPPER")

    @cached_property
    def user_tokens(self) -> TokenValidator:
        return TokenValidator(
            TokenPolicy(
                issuer=self.settings.get("USER_JWT_ISSUER"),
                audience=self.settings.get("USER_JWT_AUDIENCE"),
                jwks_uri=self.settings.get("USER_JWKS_URI"),
            )
        )

    @cached_property
    def staff_tokens(self) -> TokenValidator:
        return TokenValidator(
            TokenPolicy(
                issuer=self.settings.get("STAFF_JWT_ISSUER"),
                audience=self.settings.get("STAFF_JWT_AUDIENCE"),
                jwks_uri=self.settings.get("STAFF_JWKS_URI"),
            )
        )

    @cached_property
    def banner_cors(self) -> CorsPolicy:
        # Credentials only when the API sets the visitor cookie: the browser keeps a cross-origin
        # Set-Cookie only from a credentialed request that the answer allows.
        return CorsPolicy(
            frozenset(self.settings.get_list("CORS_ALLOWED_ORIGINS")), allow_credentials=self.visitor_cookie is not None
        )

    @cached_property
    def audit(self) -> AuditTrail:
        return AuditTrail(self.documents, self.clock)

    # ---- consent and cookies -----------------------------------------------------------------

    @cached_property
    def catalog(self) -> CatalogRepository:
        return CatalogRepository(self.documents, float(self.settings.get_int("CATALOG_CACHE_SECONDS")))

    @cached_property
    def ledger(self) -> ConsentLedger:
        return ConsentLedger(self.documents)

    @cached_property
    def cookie_max_age(self) -> timedelta:
        return decision_max_age(self.settings.get_int("COOKIE_CONSENT_MAX_AGE_DAYS"))

    @cached_property
    def privacy_policy_url(self) -> str:
        return self.settings.get("PRIVACY_POLICY_URL")

    @cached_property
    def visitor_cookie(self) -> VisitorCookie | None:
        domain = self.settings.get("VISITOR_COOKIE_DOMAIN").strip()
        if not domain:
            return None
        return VisitorCookie(self.settings.get("VISITOR_COOKIE_NAME"), domain, self.cookie_max_age)

    # ---- public proof --------------------------------------------------------------------------

    @cached_property
    def proof_signer(self) -> DocumentSigner:
        from functions.proof.signer import DocumentSigner

        hours = self.settings.get_int("PROOF_SIGNING_KEY_HOURS")
        issuer = self.settings.get("PUBLIC_API_URL").rstrip("/")
        return DocumentSigner(self.root_key, self.clock, issuer, timedelta(hours=hours))

    @cached_property
    def key_set(self) -> KeySet:
        from functions.proof.keyset import KeySet

        return KeySet(self.root_key)

    @cached_property
    def consent_receipts(self) -> ConsentReceipts:
        from functions.proof.issuing import ConsentReceipts

        return ConsentReceipts(self.proof_signer)

    @cached_property
    def seal_records(self) -> SealRecords:
        from functions.proof.sealing import SealRecords

        return SealRecords(self.documents)

    @cached_property
    def ledger_sealer(self) -> LedgerSealer:
        from functions.proof.sealing import LedgerSealer

        return LedgerSealer(self.documents, self.seal_records, self.seal_archive, self.proof_signer, self.clock)

    @cached_property
    def seal_inclusion(self) -> SealInclusion:
        from functions.proof.inclusion import SealInclusion

        return SealInclusion(self.seal_records, self.seal_archive)

    # ---- data-subject requests ---------------------------------------------------------------

    @cached_property
    def inventory(self) -> Inventory:
        """The inventory with the retention periods in force (app settings change some)."""
        from functions.inventory.declaration import inventory
        from functions.retention.policy import effective_inventory

        return effective_inventory(inventory(), self.settings)

    @cached_property
    def locations(self) -> dict[str, StoredLocation]:
        from functions.inventory.locations import Systems, build_locations
        from functions.requests.repository import RequestRepository

        systems = Systems(
            store=self.documents,
            ledger=self.ledger,
            payments=self.payments,
            contacts=self.contacts,
            archives=self.archives,
            request_records=RequestRepository(self.documents),
            catalog=self.catalog,
            pepper=self.pepper,
            clock=self.clock,
            cookie_max_age=self.cookie_max_age,
        )
        return build_locations(self.inventory, systems)

    @cached_property
    def request_parts(self) -> RequestParts:
        from functions.requests.config import RequestConfig
        from functions.requests.dispatch import StepDispatcher
        from functions.requests.outbox import MailOutbox, RequestMails
        from functions.requests.parts import RequestParts
        from functions.requests.repository import RequestRepository

        s = self.settings
        config = RequestConfig(
            public_api_url=s.get("PUBLIC_API_URL").rstrip("/"),
            verification_link_hours=s.get_int("DSR_VERIFICATION_LINK_HOURS"),
            export_link_hours=s.get_int("EXPORT_LINK_HOURS"),
            export_retention_days=s.get_int("EXPORT_RETENTION_DAYS"),
            max_open_per_subject=s.get_int("DSR_MAX_OPEN_PER_EMAIL"),
            staff_email=s.get("DSR_STAFF_EMAIL") or None,
            erasure_needs_approval=s.get_bool("DSR_ERASURE_NEEDS_APPROVAL"),
        )
        requests = RequestRepository(self.documents)
        outbox = MailOutbox(requests, self.mailer, RequestMails(config, self.inventory, self.archives), self.clock)
        return RequestParts(requests, outbox, StepDispatcher(self.work_queue), self.clock, config)

    @cached_property
    def profiles(self) -> Profiles:
        from functions.requests.profiles import ProductProfiles

        return ProductProfiles(self.documents, self.pepper)

    @cached_property
    def directory(self) -> Directory:
        from functions.requests.profiles import ProductProfiles

        return ProductProfiles(self.documents, self.pepper)

    @cached_property
    def subject_resolver(self) -> SubjectResolver:
        from functions.requests.resolve import SubjectResolver

        return SubjectResolver(self.profiles, self.payments)

    @cached_property
    def request_intake(self) -> RequestIntake:
        from functions.requests.deadlines import Calendar
        from functions.requests.intake import RequestIntake

        calendar = Calendar(self._gdpr_zone(), self._public_holidays())
        return RequestIntake(self.request_parts, self.mailer, self.signing_keys, self.pepper, self.inventory, calendar)

    @cached_property
    def export_downloads(self) -> ExportDownloads:
        from functions.requests.downloads import ExportDownloads

        parts = self.request_parts
        return ExportDownloads(parts.requests, self.archives, self.clock, parts.config.export_link_hours)

    @cached_property
    def request_staff(self) -> RequestStaff:
        from functions.requests.staff import RequestStaff

        return RequestStaff(self.request_parts, self.locations, self.subject_resolver, self.pepper, self.legal_holds)

    @cached_property
    def request_worker(self) -> StepWorker:
        from functions.requests.worker import StepWorker

        parts, holds = self.request_parts, self.legal_holds
        return StepWorker(
            parts, self.locations, self.subject_resolver, self.archives, self.proof_signer, self.inventory, holds
        )

    @cached_property
    def deadline_review(self) -> DeadlineReview:
        from functions.requests.deadline_review import DeadlineReview

        warning = timedelta(days=self.settings.get_int("RETENTION_HOLD_WARNING_DAYS"))
        return DeadlineReview(self.request_parts, self.mailer, self.legal_holds, warning)

    # ---- retention ---------------------------------------------------------------------------

    @cached_property
    def legal_holds(self) -> LegalHoldRepository:
        from functions.retention.hold_repository import LegalHoldRepository

        return LegalHoldRepository(self.documents, self.clock)

    @cached_property
    def retention_parts(self) -> RetentionParts:
        from functions.retention.config import RetentionConfig
        from functions.retention.parts import RetentionParts
        from functions.retention.run_repository import RunRepository

        config = RetentionConfig.from_settings(self.settings)
        return RetentionParts(
            self.inventory, self.locations, self.legal_holds, RunRepository(self.documents), self.clock, config
        )

    @cached_property
    def requests_under_hold(self) -> RequestsUnderHold:
        from functions.requests.hold_support import RequestsUnderHold

        return RequestsUnderHold(self.request_parts.requests, self.request_staff)

    @cached_property
    def retention_follow_up(self) -> HoldFollowUp:
        from functions.retention.follow_up import HoldFollowUp

        return HoldFollowUp(self.legal_holds, self.archives, self.requests_under_hold)

    @cached_property
    def retention_run(self) -> RetentionRun:
        from functions.retention.purge import RetentionRun

        return RetentionRun(self.retention_parts, self.retention_follow_up)

    @cached_property
    def retention_staff(self) -> RetentionStaff:
        from functions.incidents.hold_support import IncidentsUnderHold
        from functions.retention.staff import RetentionStaff

        parts, follow_up, held = self.retention_parts, self.retention_follow_up, self.requests_under_hold
        return RetentionStaff(parts, follow_up, self.profiles, held, IncidentsUnderHold(self.incidents), self.pepper)

    def _gdpr_zone(self) -> ZoneInfo:
        name = self.settings.get("DSR_GDPR_TIME_ZONE")
        try:
            return ZoneInfo(name)
        except (ValueError, KeyError):
            raise SettingsError(
                "app setting DSR_GDPR_TIME_ZONE must be an IANA time zone such as Europe/Berlin"
            ) from None

    def _public_holidays(self) -> frozenset[date]:
        try:
            return frozenset(date.fromisoformat(day) for day in self.settings.get_list("DSR_GDPR_PUBLIC_HOLIDAYS"))
        except ValueError:
            raise SettingsError("app setting DSR_GDPR_PUBLIC_HOLIDAYS must list ISO dates (2026-12-25,...)") from None

    # ---- mail to many people ------------------------------------------------------------------

    @cached_property
    def bulk_mailer(self) -> BulkMailer:
        from adapters.sendgrid_email import SendGridBulkMailer

        return SendGridBulkMailer.from_settings(self.settings)

    @cached_property
    def event_signatures(self) -> EventSignatures:
        from adapters.sendgrid_email import SendGridEventSignatures

        return SendGridEventSignatures.from_settings(self.settings)

    @cached_property
    def mail_batches(self) -> BatchRepository:
        from functions.fanout.batches import BatchRepository

        return BatchRepository(self.documents)

    @cached_property
    def fan_out_config(self) -> FanOutConfig:
        from functions.fanout.dispatch import FanOutConfig

        return FanOutConfig(
            unconfirmed_grace=timedelta(seconds=self.settings.get_int("INCIDENT_UNCONFIRMED_GRACE_SECONDS"))
        )

    @cached_property
    def delivery_events(self) -> DeliveryEvents:
        from functions.fanout.events import DeliveryEvents

        return DeliveryEvents(
            self.mail_batches,
            self.work_queue,
            self.event_signatures,
            self.clock,
            self.fan_out_config,
            self.pepper,
            self.opt_outs,
        )

    @cached_property
    def fan_out(self) -> FanOut:
        from functions.fanout.dispatch import FanOut
        from functions.incidents.mailing import IncidentNotices
        from functions.notices.mailing import NoticeMailing

        notices = NoticeMailing(
            self.notice_repository, self.directory, self.ledger, self.catalog, self.clock, self.pepper
        )
        incidents = IncidentNotices(self.incidents, self.inventory_categories, self.clock, self.proof_signer)
        mailings: dict[str, Mailing] = {incidents.kind: incidents, notices.kind: notices}
        return FanOut(
            self.mail_batches,
            mailings,
            self.bulk_mailer,
            self.work_queue,
            self.clock,
            self.fan_out_config,
            self.delivery_events.alive,
        )

    # ---- breach incidents ----------------------------------------------------------------------

    @cached_property
    def incidents(self) -> IncidentRepository:
        from functions.incidents.repository import IncidentRepository

        return IncidentRepository(self.documents)

    @cached_property
    def incident_config(self) -> IncidentConfig:
        from functions.incidents.config import IncidentConfig

        return IncidentConfig(staff_email=self.settings.get("INCIDENT_STAFF_EMAIL") or None)

    @cached_property
    def inventory_categories(self) -> dict[str, str]:
        from functions.inventory.declaration import inventory

        return dict(inventory().categories)

    @cached_property
    def incident_staff(self) -> IncidentStaff:
        from functions.incidents.staff import IncidentStaff

        return IncidentStaff(
            self.incidents, self.work_queue, self.fan_out, self.clock, self.pepper, self.inventory_categories
        )

    @cached_property
    def recipient_selection(self) -> RecipientSelection:
        from functions.incidents.selection import RecipientSelection

        return RecipientSelection(self.incidents, self.locations, self.profiles, self.clock, self.pepper)

    @cached_property
    def deadline_watch(self) -> DeadlineWatch:
        from functions.incidents.deadline_watch import DeadlineWatch

        return DeadlineWatch(self.incidents, self.mailer, self.clock, self.incident_config)

    # ---- notices and opt-outs ------------------------------------------------------------------

    @cached_property
    def marketing_group_id(self) -> int | None:
        raw = self.settings.get("SENDGRID_MARKETING_GROUP_ID")
        return self.settings.get_int("SENDGRID_MARKETING_GROUP_ID") if raw else None

    @cached_property
    def marketing_sync(self) -> MarketingSync:
        from functions.notices.marketing_sync import MarketingSync

        return MarketingSync(
            self.documents,
            self.work_queue,
            self.ledger,
            self.directory,
            self.suppression_groups,
            self.marketing_group_id,
            self.clock,
        )

    @cached_property
    def devices(self) -> Devices:
        from functions.notices.devices import Devices

        return Devices(self.documents, self.clock)

    @cached_property
    def opt_outs(self) -> OptOuts:
        from functions.notices.opt_outs import OptOuts

        return OptOuts(
            self.ledger,
            self.catalog,
            self.marketing_sync,
            self.devices,
            self.directory,
            self.marketing_group_id,
            self.clock,
        )

    @cached_property
    def unsubscribe_links(self) -> UnsubscribeLinks:
        from functions.notices.unsubscribe import UnsubscribeLinks

        return UnsubscribeLinks(self.signing_keys, self.settings.get("PUBLIC_API_URL"), self.opt_outs)

    @cached_property
    def allowed_subjects(self) -> AllowedSubjects:
        from functions.notices.allowed import AllowedSubjects

        return AllowedSubjects(self.documents, self.catalog, self.directory, self.unsubscribe_links.url)

    @cached_property
    def notice_repository(self) -> NoticeRepository:
        from functions.notices.notices_repository import NoticeRepository

        return NoticeRepository(self.documents)

    @cached_property
    def notice_board(self) -> NoticeBoard:
        from functions.notices.board import NoticeBoard

        return NoticeBoard(self.notice_repository, self.active_notices, self.fan_out, self.clock)

    @cached_property
    def active_notices(self) -> BoardCache:
        """The board the website reads on every page, without the rest of notices (no fan-out)."""
        from functions.notices.board_cache import BoardCache

        return BoardCache(self.notice_repository, float(self.settings.get_int("NOTICES_CACHE_SECONDS")))

    @cached_property
    def disclosures(self) -> DisclosureRegister:
        from functions.notices.disclosures import DisclosureConfig, DisclosureRegister

        config = DisclosureConfig(staff_email=self.settings.get("DISCLOSURE_STAFF_EMAIL") or None)
        return DisclosureRegister(
            self.documents, self.notice_board, self.mailer, self.clock, config, self.inventory_categories
        )


_lock = threading.Lock()
_services: Services | None = None


def services() -> Services:
    global _services
    if _services is None:
        with _lock:
            if _services is None:
                _services = Services(load_settings())
    return _services


def use_services(replacement: Services | None) -> None:
    """Swap the root (tests and benchmarks build theirs against the local stack)."""
    global _services
    with _lock:
        _services = replacement
