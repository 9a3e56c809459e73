"""Every app setting the code reads, declared once.

App settings reach the code as environment variables: in Azure from the Function App's
configuration (secrets as Key Vault references, resolved by the platform), locally from
``local.settings.json``. The Bicep, ``local.settings.example.json`` and the tests all check
themselves against :data:`SETTINGS`, so a new setting is added here first.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

UNRESOLVED_KEY_VAULT_REFERENCE = "@Microsoft.KeyVault("


class SettingKind(StrEnum):
    PLAIN = "plain"
    SECRET = "secret"  # noqa: S105 - a kind, not a secret; lives in Key Vault; the app setting holds a Key Vault reference


@dataclass(frozen=True)
class Setting:
    name: str
    kind: SettingKind
    description: str
    default: str | None = None  # None = required
    local_only: bool = False  # set by the local stack only; in Azure the managed identity replaces it


SETTINGS: tuple[Setting, ...] = (
    Setting("APP_ENVIRONMENT", SettingKind.PLAIN, "Deployment environment name: local, dev or prod.", "local"),
    Setting("COSMOS_ENDPOINT", SettingKind.PLAIN, "Cosmos DB account endpoint (https://...)."),
    Setting(
        "COSMOS_KEY",
        SettingKind.SECRET,
        "Cosmos DB key for the local stand-in only. Empty in Azure: the app signs in with its managed identity.",
        "",
        local_only=True,
    ),
    Setting("COSMOS_DATABASE", SettingKind.PLAIN, "Cosmos DB database id.", "privacy"),
    Setting(
        "COSMOS_TLS_VERIFY",
        SettingKind.PLAIN,
        "Verify the Cosmos DB TLS certificate (false only for the local stand-in's self-signed certificate).",
        "true",
    ),
    Setting(
        "AzureWebJobsStorage",
        SettingKind.SECRET,
        "Storage connection string (local Azurite). Empty in Azure, where the __accountName form is used.",
        "",
        local_only=True,
    ),
    Setting(
        "AzureWebJobsStorage__accountName",
        SettingKind.PLAIN,
        "Storage account name for identity-based connections in Azure.",
        "",
    ),
    Setting(
        "SUBJECT_HASH_PEPPER",
        SettingKind.SECRET,
        "Secret pepper for keyed hashes (HMAC-SHA256) of emails and IP addresses.",
    ),
    Setting("USER_JWT_ISSUER", SettingKind.PLAIN, "Issuer (iss) of the identity provider's user tokens."),
    Setting("USER_JWT_AUDIENCE", SettingKind.PLAIN, "Audience (aud) the user tokens must carry."),
    Setting(
        "USER_JWKS_URI",
        SettingKind.PLAIN,
        "JWKS of the user identity provider: https:// URL, or file:// for local development.",
    ),
    Setting("STAFF_JWT_ISSUER", SettingKind.PLAIN, "Issuer of staff tokens (Entra ID tenant)."),
    Setting("STAFF_JWT_AUDIENCE", SettingKind.PLAIN, "Audience of staff tokens (the app registration)."),
    Setting("STAFF_JWKS_URI", SettingKind.PLAIN, "JWKS of the staff identity provider (https:// or file://)."),
    Setting(
        "CORS_ALLOWED_ORIGINS",
        SettingKind.PLAIN,
        "Comma-separated origins allowed to call the banner endpoints from a browser.",
        "",
    ),
    Setting(
        "PRIVACY_POLICY_URL",
        SettingKind.PLAIN,
        "Where people read the privacy policy in force: the banner and the privacy page link to it.",
        "https://softwareengineeringconcepts.com/privacy-policy",
    ),
    Setting(
        "VISITOR_COOKIE_DOMAIN",
        SettingKind.PLAIN,
        "Where the API is served under the website's own domain: that domain (e.g. example.com). The banner "
        "endpoints then set the visitor id cookie themselves (Set-Cookie, Secure, SameSite=Lax), which browsers "
        "keep longer than a cookie set by script. Empty: the banner's script sets it.",
        "",
    ),
    Setting(
        "VISITOR_COOKIE_NAME",
        SettingKind.PLAIN,
        "Name of the first-party cookie holding the visitor id (the banner's data-cookie attribute).",
        "privacy_visitor",
    ),
    Setting(
        "COOKIE_CONSENT_MAX_AGE_DAYS",
        SettingKind.PLAIN,
        "How long a cookie decision stays valid before re-consent (at most 395 days, 13 months).",
        "365",
    ),
    Setting(
        "CATALOG_CACHE_SECONDS",
        SettingKind.PLAIN,
        "How long an instance keeps the published purposes and policy version in memory.",
        "30",
    ),
    Setting("STRIPE_API_KEY", SettingKind.SECRET, "Stripe secret API key.", ""),
    Setting("STRIPE_API_BASE", SettingKind.PLAIN, "Stripe API base URL (the local stand-in locally).", ""),
    Setting("SENDGRID_API_KEY", SettingKind.SECRET, "SendGrid API key.", ""),
    Setting(
        "SENDGRID_API_HOST",
        SettingKind.PLAIN,
        "SendGrid API host (the local mail server locally).",
        "https://api.sendgrid.com",
    ),
    Setting(
        "SENDGRID_EVENT_WEBHOOK_PUBLIC_KEY",
        SettingKind.PLAIN,
        "Verification key of SendGrid's signed Event Webhook (base64 DER, as Mail Settings shows it); "
        "events without a valid signature are refused.",
        "",
    ),
    Setting(
        "SENDGRID_MARKETING_GROUP_ID",
        SettingKind.PLAIN,
        "SendGrid unsubscribe group of marketing email: a withdrawal of the marketing consent puts the address "
        "in it, a new grant takes it out (the global suppression list is never touched for this).",
        "",
    ),
    Setting(
        "SIGNING_KEYS",
        SettingKind.SECRET,
        "Local key ring for signatures, as id:secret pairs (the last signs). In Azure the versions of the "
        "Key Vault secret named by SIGNING_KEY_SECRET_NAME are the ring instead.",
        "",
        local_only=True,
    ),
    Setting(
        "SIGNING_KEY_SECRET_NAME",
        SettingKind.PLAIN,
        "Key Vault secret whose enabled versions are the signing key ring (newest signs, any verifies).",
        "signing-keys",
    ),
    Setting(
        "PUBLIC_API_URL",
        SettingKind.PLAIN,
        "Public base URL of this API including the route prefix (verification links and certificates in mails).",
    ),
    Setting(
        "MAIL_FROM", SettingKind.PLAIN, "Sender address of privacy mails.", "privacy@softwareengineeringconcepts.com"
    ),
    Setting("DSR_STAFF_EMAIL", SettingKind.PLAIN, "Where the deadline digest of data-subject requests goes.", ""),
    Setting("DSR_VERIFICATION_LINK_HOURS", SettingKind.PLAIN, "How long a verification link works.", "24"),
    Setting("DSR_UNVERIFIED_CLOSE_DAYS", SettingKind.PLAIN, "Unverified requests are closed after this.", "14"),
    Setting("DSR_MAX_OPEN_PER_EMAIL", SettingKind.PLAIN, "Open requests one person may have at once.", "3"),
    Setting(
        "DSR_ERASURE_NEEDS_APPROVAL",
        SettingKind.PLAIN,
        "Erasures wait for a staff approval after verification (under-13 erasures never wait).",
        "true",
    ),
    Setting(
        "DSR_GDPR_TIME_ZONE",
        SettingKind.PLAIN,
        "IANA time zone of the Member State whose calendar counts GDPR deadlines (the default, the EU's "
        "easternmost, ends each day earliest).",
        "Europe/Helsinki",
    ),
    Setting(
        "DSR_GDPR_PUBLIC_HOLIDAYS",
        SettingKind.PLAIN,
        "Comma-separated ISO dates of that Member State's public holidays: a GDPR deadline falling on one "
        "moves to the next working day (Regulation 1182/71 Art. 3(4)).",
        "",
    ),
    Setting(
        "INCIDENT_STAFF_EMAIL",
        SettingKind.PLAIN,
        "Where warnings about breach deadlines go (before each deadline and when one has passed).",
        "",
    ),
    Setting(
        "DISCLOSURE_STAFF_EMAIL",
        SettingKind.PLAIN,
        "Where the warning goes a week before a legal disclosure's gag ends (the people are told when it does).",
        "",
    ),
    Setting(
        "NOTICES_CACHE_SECONDS",
        SettingKind.PLAIN,
        "How long an instance keeps the board of active notices in memory (GET /api/notices/active).",
        "30",
    ),
    Setting(
        "INCIDENT_UNCONFIRMED_GRACE_SECONDS",
        SettingKind.PLAIN,
        "How long a breach-notice batch interrupted mid-send waits for SendGrid's events before it is sent "
        "again (only while events are arriving; otherwise staff decide).",
        "600",
    ),
    Setting("EXPORT_LINK_HOURS", SettingKind.PLAIN, "How long the download link of a data export works.", "72"),
    Setting("EXPORT_RETENTION_DAYS", SettingKind.PLAIN, "Days after which a data-export archive is deleted.", "7"),
    Setting(
        "PROOF_KEY_NAME",
        SettingKind.PLAIN,
        "Key Vault key (EC P-256) that certifies the short-lived keys signing receipts, certificates and seals; "
        "its enabled versions are the published key set.",
        "proof-signing",
    ),
    Setting(
        "PROOF_KEY_FILE",
        SettingKind.PLAIN,
        "Local stand-in of the Key Vault proof key: a key file in the local stack's state folder. In Azure the "
        "key named by PROOF_KEY_NAME signs instead.",
        "",
        local_only=True,
    ),
    Setting(
        "PROOF_SIGNING_KEY_HOURS",
        SettingKind.PLAIN,
        "Hours an instance's short-lived signing key may sign before a new one is certified by the vault key.",
        "6",
    ),
    Setting(
        "PROOF_SEALS_BLOB_ENDPOINT",
        SettingKind.PLAIN,
        "Blob endpoint of the storage account with the immutable container of ledger seals (https://...). "
        "Empty locally: the local Azurite.",
        "",
    ),
    Setting(
        "KEY_VAULT_URI",
        SettingKind.PLAIN,
        "Key Vault URI for keys that rotate (read with the app's identity). Empty locally.",
        "",
    ),
    Setting(
        "RETENTION_SCHEDULE",
        SettingKind.PLAIN,
        "Six-field NCRONTAB schedule of the retention purge (UTC in Azure), read by its timer as %RETENTION_SCHEDULE%.",
        "0 30 2 * * *",
    ),
    Setting(
        "RETENTION_PERIODS",
        SettingKind.PLAIN,
        "Retention periods that differ from declarations/inventory.json, as comma-separated <rule>=<n>d or <n>y "
        "(navigation-events=180d,language-data=180d); an unknown rule, or a period other than the law's for a rule "
        "whose period a law sets (orders), stops the app.",
        "",
    ),
    Setting(
        "RETENTION_TIME_BUDGET_SECONDS",
        SettingKind.PLAIN,
        "How long one purge run works before it stops and leaves the rest to the next run (below functionTimeout).",
        "480",
    ),
    Setting(
        "RETENTION_LEASE_SECONDS",
        SettingKind.PLAIN,
        "How long a purge run's lease lasts without being renewed: a run that died is taken over this much later.",
        "300",
    ),
    Setting(
        "RETENTION_HOLD_WARNING_DAYS",
        SettingKind.PLAIN,
        "A legal hold whose end date is this close shows in the staff digest.",
        "14",
    ),
)

SETTINGS_BY_NAME: Mapping[str, Setting] = {s.name: s for s in SETTINGS}


class SettingsError(RuntimeError):
    """A setting is missing or unusable; the message names the setting, never its value."""


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, str]

    def get(self, name: str) -> str:
        declared = SETTINGS_BY_NAME.get(name)
        if declared is None:
            raise KeyError(f"setting {name} is not declared in core/settings.py")
        value = self.values.get(name)
        if value is None or value == "":
            if declared.default is None:
                raise SettingsError(f"app setting {name} is required: {declared.description}")
            return declared.default
        return value

    def get_bool(self, name: str) -> bool:
        return self.get(name).strip().lower() in {"1", "true", "yes", "on"}

    def get_int(self, name: str) -> int:
        raw = self.get(name)
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"app setting {name} must be a whole number") from None

    def get_list(self, name: str) -> list[str]:
        return [item.strip() for item in self.get(name).split(",") if item.strip()]


def unresolved_key_vault_references(values: Mapping[str, str]) -> list[str]:
    """Names of declared settings whose value is still a literal Key Vault reference.

    The platform replaces ``@Microsoft.KeyVault(...)`` with the secret; when it cannot (no access,
    wrong name) the literal text arrives instead, and using it as a key would fail obscurely later.
    """
    return sorted(
        name for name in SETTINGS_BY_NAME if values.get(name, "").lstrip().startswith(UNRESOLVED_KEY_VAULT_REFERENCE)
    )


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    values = dict(os.environ if environ is None else environ)
    unresolved = unresolved_key_vault_references(values)
    if unresolved:
        raise SettingsError(
            "these app settings still hold an unresolved Key Vault reference "
            f"(check the app's access to the vault and the secret names): {', '.join(unresolved)}"
        )
    return Settings(values)
