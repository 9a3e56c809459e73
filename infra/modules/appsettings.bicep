// App settings of the Function App: every setting the code reads (core/settings.py, SETTINGS), plus the
// platform's Application Insights settings. Secrets are Key Vault references resolved by the platform with
// the app's identity; the secret name is the setting name in lower case with '_' replaced by '-'.
// Local-only settings (local_only=True in SETTINGS) are not set in Azure: COSMOS_KEY (the app signs in to
// Cosmos DB with its identity), the AzureWebJobsStorage connection string (replaced by
// AzureWebJobsStorage__accountName) and SIGNING_KEYS (the versions of the Key Vault secret named by
// SIGNING_KEY_SECRET_NAME are the key ring, read with the identity through KEY_VAULT_URI).

@description('Name of the Function App whose settings are written.')
param functionAppName string

@description('Deployment environment name (APP_ENVIRONMENT).')
@allowed([
  'dev'
  'prod'
])
param environmentName string

@description('Name of the storage account used for host storage through the app identity.')
param storageAccountName string

@description('Name of the Application Insights component.')
param appInsightsName string

@description('Name of the Key Vault that holds the secrets referenced below.')
param keyVaultName string

@description('URI of the Key Vault (KEY_VAULT_URI).')
param keyVaultUri string

@description('Cosmos DB account endpoint (COSMOS_ENDPOINT).')
param cosmosEndpoint string

@description('Cosmos DB database id (COSMOS_DATABASE).')
param cosmosDatabaseName string

@description('Issuer (iss) of the user tokens (USER_JWT_ISSUER).')
param userJwtIssuer string

@description('Audience (aud) of the user tokens (USER_JWT_AUDIENCE).')
param userJwtAudience string

@description('JWKS URL of the user identity provider (USER_JWKS_URI).')
param userJwksUri string

@description('Issuer of the staff tokens (STAFF_JWT_ISSUER).')
param staffJwtIssuer string

@description('Audience of the staff tokens (STAFF_JWT_AUDIENCE).')
param staffJwtAudience string

@description('JWKS URL of the staff identity provider (STAFF_JWKS_URI).')
param staffJwksUri string

@description('Comma-separated browser origins allowed to call the banner endpoints (CORS_ALLOWED_ORIGINS).')
param corsAllowedOrigins string

@description('Where people read the privacy policy in force (PRIVACY_POLICY_URL).')
param privacyPolicyUrl string

@description('The website\'s own domain when the API is served under it, so the API sets the visitor cookie (VISITOR_COOKIE_DOMAIN). Empty: the banner sets it.')
param visitorCookieDomain string

@description('Name of the visitor id cookie (VISITOR_COOKIE_NAME).')
param visitorCookieName string

@description('Days a cookie decision stays valid (COOKIE_CONSENT_MAX_AGE_DAYS).')
@minValue(1)
@maxValue(395)
param cookieConsentMaxAgeDays int

@description('Seconds an instance caches the published catalog (CATALOG_CACHE_SECONDS).')
@minValue(0)
@maxValue(3600)
param catalogCacheSeconds int

@description('Stripe API base URL (STRIPE_API_BASE).')
param stripeApiBase string

@description('SendGrid API host (SENDGRID_API_HOST).')
param sendgridApiHost string

@description('Vault key that certifies the short-lived signing keys (PROOF_KEY_NAME).')
param proofKeyName string

@description('Hours a short-lived signing key may sign (PROOF_SIGNING_KEY_HOURS).')
@minValue(1)
@maxValue(48)
param proofSigningKeyHours int

@description('Blob endpoint of the seals storage account (PROOF_SEALS_BLOB_ENDPOINT).')
param proofSealsBlobEndpoint string

@description('Key Vault secret whose enabled versions are the signing key ring (SIGNING_KEY_SECRET_NAME).')
@minLength(1)
@maxLength(127)
param signingKeySecretName string

@description('Public base URL of the API with its route prefix, used in mailed links (PUBLIC_API_URL).')
param publicApiUrl string

@description('Sender address of privacy mails (MAIL_FROM).')
param mailFrom string

@description('Recipient of the deadline digest of data-subject requests (DSR_STAFF_EMAIL); empty = none.')
param dsrStaffEmail string

@description('Whether erasures wait for a staff approval (DSR_ERASURE_NEEDS_APPROVAL).')
param dsrErasureNeedsApproval bool

@description('Verification key of the SendGrid signed Event Webhook, base64 DER (SENDGRID_EVENT_WEBHOOK_PUBLIC_KEY); empty refuses every event.')
param sendgridEventWebhookPublicKey string

@description('Recipient of breach-deadline warnings (INCIDENT_STAFF_EMAIL); empty = none.')
param incidentStaffEmail string

@description('Seconds an interrupted breach-notice batch waits for SendGrid events (INCIDENT_UNCONFIRMED_GRACE_SECONDS).')
param incidentUnconfirmedGraceSeconds int

@description('SendGrid unsubscribe group of marketing email (SENDGRID_MARKETING_GROUP_ID).')
param sendgridMarketingGroupId string

@description('Recipient of the warning a week before a legal disclosure\'s gag ends (DISCLOSURE_STAFF_EMAIL); empty = none.')
param disclosureStaffEmail string

@description('Seconds an instance keeps the board of active notices (NOTICES_CACHE_SECONDS).')
param noticesCacheSeconds int

@description('IANA time zone whose calendar counts GDPR deadlines (DSR_GDPR_TIME_ZONE).')
param dsrGdprTimeZone string

@description('Public holidays of that Member State, comma-separated ISO dates (DSR_GDPR_PUBLIC_HOLIDAYS).')
param dsrGdprPublicHolidays string

@description('Hours a data-export download link works (EXPORT_LINK_HOURS); archives are deleted after exportRetentionDays.')
@minValue(1)
@maxValue(168)
param exportLinkHours int

@description('Days after which an export archive is deleted by the app (EXPORT_RETENTION_DAYS); the storage lifecycle rule uses the same number.')
@minValue(1)
@maxValue(365)
param exportRetentionDays int

@description('Hours a verification link works (DSR_VERIFICATION_LINK_HOURS).')
@minValue(1)
@maxValue(168)
param dsrVerificationLinkHours int = 24

@description('Days after which unverified requests are closed (DSR_UNVERIFIED_CLOSE_DAYS).')
@minValue(1)
@maxValue(90)
param dsrUnverifiedCloseDays int = 14

@description('Open requests, and verification mails per request, one person may have (DSR_MAX_OPEN_PER_EMAIL).')
@minValue(1)
@maxValue(10)
param dsrMaxOpenPerEmail int = 3

@description('Six-field NCRONTAB schedule of the retention purge, in UTC (RETENTION_SCHEDULE).')
@minLength(11)
param retentionSchedule string = '0 30 2 * * *'

@description('Retention periods that differ from declarations/inventory.json, e.g. navigation-events=180d,language-data=180d (RETENTION_PERIODS); a rule whose period a law sets (orders) takes no other; empty = as declared.')
param retentionPeriods string = ''

@description('Seconds one purge run works before leaving the rest to the next run; below functionTimeout (RETENTION_TIME_BUDGET_SECONDS).')
@minValue(30)
@maxValue(540)
param retentionTimeBudgetSeconds int = 480

@description('Seconds a purge run\'s lease lasts unrenewed: a run that died is taken over this much later (RETENTION_LEASE_SECONDS).')
@minValue(30)
@maxValue(3600)
param retentionLeaseSeconds int = 300

@description('Days before its end date that a legal hold shows in the staff digest (RETENTION_HOLD_WARNING_DAYS).')
@minValue(1)
@maxValue(90)
param retentionHoldWarningDays int = 14

resource site 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: {
    APP_ENVIRONMENT: environmentName
    COSMOS_ENDPOINT: cosmosEndpoint
    COSMOS_DATABASE: cosmosDatabaseName
    COSMOS_TLS_VERIFY: 'true'
    AzureWebJobsStorage__accountName: storageAccountName
    SUBJECT_HASH_PEPPER: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=subject-hash-pepper)'
    USER_JWT_ISSUER: userJwtIssuer
    USER_JWT_AUDIENCE: userJwtAudience
    USER_JWKS_URI: userJwksUri
    STAFF_JWT_ISSUER: staffJwtIssuer
    STAFF_JWT_AUDIENCE: staffJwtAudience
    STAFF_JWKS_URI: staffJwksUri
    CORS_ALLOWED_ORIGINS: corsAllowedOrigins
    PRIVACY_POLICY_URL: privacyPolicyUrl
    VISITOR_COOKIE_DOMAIN: visitorCookieDomain
    VISITOR_COOKIE_NAME: visitorCookieName
    COOKIE_CONSENT_MAX_AGE_DAYS: string(cookieConsentMaxAgeDays)
    CATALOG_CACHE_SECONDS: string(catalogCacheSeconds)
    STRIPE_API_KEY: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=stripe-api-key)'
    STRIPE_API_BASE: stripeApiBase
    SENDGRID_API_KEY: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=sendgrid-api-key)'
    SENDGRID_API_HOST: sendgridApiHost
    SENDGRID_EVENT_WEBHOOK_PUBLIC_KEY: sendgridEventWebhookPublicKey
    SENDGRID_MARKETING_GROUP_ID: sendgridMarketingGroupId
    SIGNING_KEY_SECRET_NAME: signingKeySecretName
    PROOF_KEY_NAME: proofKeyName
    PROOF_SIGNING_KEY_HOURS: string(proofSigningKeyHours)
    PROOF_SEALS_BLOB_ENDPOINT: proofSealsBlobEndpoint
    KEY_VAULT_URI: keyVaultUri
    PUBLIC_API_URL: publicApiUrl
    MAIL_FROM: mailFrom
    DSR_STAFF_EMAIL: dsrStaffEmail
    DSR_VERIFICATION_LINK_HOURS: string(dsrVerificationLinkHours)
    DSR_UNVERIFIED_CLOSE_DAYS: string(dsrUnverifiedCloseDays)
    DSR_MAX_OPEN_PER_EMAIL: string(dsrMaxOpenPerEmail)
    DSR_ERASURE_NEEDS_APPROVAL: string(dsrErasureNeedsApproval)
    DSR_GDPR_TIME_ZONE: dsrGdprTimeZone
    INCIDENT_STAFF_EMAIL: incidentStaffEmail
    DISCLOSURE_STAFF_EMAIL: disclosureStaffEmail
    NOTICES_CACHE_SECONDS: string(noticesCacheSeconds)
    INCIDENT_UNCONFIRMED_GRACE_SECONDS: string(incidentUnconfirmedGraceSeconds)
    DSR_GDPR_PUBLIC_HOLIDAYS: dsrGdprPublicHolidays
    EXPORT_LINK_HOURS: string(exportLinkHours)
    EXPORT_RETENTION_DAYS: string(exportRetentionDays)
    RETENTION_SCHEDULE: retentionSchedule
    RETENTION_PERIODS: retentionPeriods
    RETENTION_TIME_BUDGET_SECONDS: string(retentionTimeBudgetSeconds)
    RETENTION_LEASE_SECONDS: string(retentionLeaseSeconds)
    RETENTION_HOLD_WARNING_DAYS: string(retentionHoldWarningDays)
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
  }
}
