// Privacy backend, one environment in one resource group: Function App (Flex Consumption, Python 3.11),
// Storage (host storage, queues, exports, deployment package), Cosmos DB for NoSQL, Key Vault,
// Log Analytics + Application Insights, alerts, and the role assignments of the app's managed identity.
// Deploy with scripts/deploy.sh; see docs/operations.md.

targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------------
// Environment and naming
// ---------------------------------------------------------------------------------------------------

@description('Deployment environment. Part of every resource name and the APP_ENVIRONMENT app setting.')
@allowed([
  'dev'
  'prod'
])
param environmentName string

@description('Azure region of all resources. Must offer the Flex Consumption plan (az functionapp list-flexconsumption-locations).')
param location string = resourceGroup().location

@description('Short prefix of resource names: lowercase letters and digits only.')
@minLength(3)
@maxLength(10)
param namePrefix string = 'privacy'

@description('Extra tags for every resource (merged over application and environment).')
param tags object = {}

// ---------------------------------------------------------------------------------------------------
// Function App
// ---------------------------------------------------------------------------------------------------

@description('Upper limit of Function App instances.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory of each Function App instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Zone-redundant Flex Consumption plan (region-dependent; keeps at least two always-ready instances per function group, billed while idle).')
param functionAppZoneRedundant bool = false

@description('Issuer (iss) of the user identity provider\'s tokens (USER_JWT_ISSUER).')
@minLength(1)
param userJwtIssuer string

@description('Audience (aud) the user tokens must carry (USER_JWT_AUDIENCE).')
@minLength(1)
param userJwtAudience string

@description('JWKS URL (https://) of the user identity provider (USER_JWKS_URI).')
@minLength(9)
param userJwksUri string

@description('Issuer of the staff tokens (STAFF_JWT_ISSUER). Default: Microsoft Entra ID v2 tokens of this tenant.')
@minLength(1)
param staffJwtIssuer string = '${environment().authentication.loginEndpoint}${subscription().tenantId}/v2.0'

@description('Audience of the staff tokens: the application (client) id or App ID URI of the staff app registration (STAFF_JWT_AUDIENCE).')
@minLength(1)
param staffJwtAudience string

@description('JWKS URL of the staff identity provider (STAFF_JWKS_URI). Default: Microsoft Entra ID keys of this tenant.')
@minLength(9)
param staffJwksUri string = '${environment().authentication.loginEndpoint}${subscription().tenantId}/discovery/v2.0/keys'

@description('Comma-separated origins allowed to call the banner endpoints from a browser (CORS_ALLOWED_ORIGINS). Empty: none.')
param corsAllowedOrigins string = ''

@description('Where people read the privacy policy in force; the banner and the privacy page link to it (PRIVACY_POLICY_URL).')
param privacyPolicyUrl string = 'https://softwareengineeringconcepts.com/privacy-policy'

@description('The website\'s own domain when the API is served under it (VISITOR_COOKIE_DOMAIN): the API then sets the visitor cookie. Empty: the banner sets it.')
param visitorCookieDomain string = ''

@description('Name of the visitor id cookie (VISITOR_COOKIE_NAME).')
param visitorCookieName string = 'privacy_visitor'

@description('Days a cookie decision stays valid before re-consent, at most 395 (13 months) (COOKIE_CONSENT_MAX_AGE_DAYS).')
@minValue(1)
@maxValue(395)
param cookieConsentMaxAgeDays int = 365

@description('Seconds an instance keeps the published purposes and policy version in memory (CATALOG_CACHE_SECONDS).')
@minValue(0)
@maxValue(3600)
param catalogCacheSeconds int = 30

@description('Stripe API base URL (STRIPE_API_BASE).')
@minLength(9)
param stripeApiBase string = 'https://api.stripe.com'

@description('SendGrid API host (SENDGRID_API_HOST).')
@minLength(9)
param sendgridApiHost string = 'https://api.sendgrid.com'

@description('Sender address of privacy mails: verification links, exports, erasure notices (MAIL_FROM).')
@minLength(3)
param mailFrom string = 'privacy@softwareengineeringconcepts.com'

@description('Where the digest of data-subject requests near or past their deadline goes (DSR_STAFF_EMAIL); empty = no mail.')
param dsrStaffEmail string = ''

@description('Whether erasures wait for a staff approval after verification (DSR_ERASURE_NEEDS_APPROVAL).')
param dsrErasureNeedsApproval bool = true

@description('Verification key of the SendGrid signed Event Webhook, base64 DER as shown in SendGrid\'s Mail Settings (SENDGRID_EVENT_WEBHOOK_PUBLIC_KEY). A public key, so not a secret.')
param sendgridEventWebhookPublicKey string = ''

@description('Where warnings about breach deadlines go (INCIDENT_STAFF_EMAIL); empty = shown in the incident only.')
param incidentStaffEmail string = ''

@description('Seconds a breach-notice batch interrupted mid-send waits for SendGrid events before it is sent again (INCIDENT_UNCONFIRMED_GRACE_SECONDS).')
@minValue(60)
@maxValue(86400)
param incidentUnconfirmedGraceSeconds int = 600

@description('SendGrid unsubscribe group (ASM group id) of marketing email (SENDGRID_MARKETING_GROUP_ID); create it in SendGrid first.')
param sendgridMarketingGroupId string = ''

@description('Where the warning goes a week before a legal disclosure\'s gag ends (DISCLOSURE_STAFF_EMAIL); empty = logged only.')
param disclosureStaffEmail string = ''

@description('IANA time zone of the Member State whose calendar counts GDPR deadlines (DSR_GDPR_TIME_ZONE).')
param dsrGdprTimeZone string = 'Europe/Helsinki'

@description('That Member State\'s public holidays, comma-separated ISO dates; a deadline on one moves to the next working day (DSR_GDPR_PUBLIC_HOLIDAYS).')
param dsrGdprPublicHolidays string = ''

@description('Key Vault secret whose enabled versions are the signing key ring: newest signs, any verifies (SIGNING_KEY_SECRET_NAME).')
@minLength(1)
@maxLength(127)
param signingKeySecretName string = 'signing-keys'

@description('NCRONTAB schedule of the daily retention purge, in UTC (RETENTION_SCHEDULE).')
@minLength(11)
param retentionSchedule string = '0 30 2 * * *'

@description('Retention periods that differ from declarations/inventory.json, as <rule>=<n>d or <n>y, comma-separated (RETENTION_PERIODS), e.g. navigation-events=180d,language-data=180d. A rule whose period a law sets (orders) takes no other: any other period stops the app at start.')
param retentionPeriods string = ''

// ---------------------------------------------------------------------------------------------------
// Storage
// ---------------------------------------------------------------------------------------------------

@description('Replication of the storage account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param storageSku string = 'Standard_LRS'

@description('Extra storage queues beyond those the app declares in declarations/storage.json; each also gets its <name>-poison queue.')
param extraQueues array = []

@description('Days after which a data-export archive (blob under exports/) is deleted.')
@minValue(1)
@maxValue(365)
param exportRetentionDays int = 7

// ---------------------------------------------------------------------------------------------------
// Cosmos DB
// ---------------------------------------------------------------------------------------------------

@description('Cosmos DB capacity: Serverless, or Provisioned with database-level autoscale. Fixed when the account is created.')
@allowed([
  'Serverless'
  'Provisioned'
])
param cosmosCapacityMode string = 'Serverless'

@description('Maximum autoscale RU/s of the database when cosmosCapacityMode is Provisioned (scales between 10% and 100% of it).')
@minValue(1000)
@maxValue(1000000)
param cosmosAutoscaleMaxThroughput int = 1000

@description('Cosmos DB continuous backup tier (point-in-time restore window).')
@allowed([
  'Continuous7Days'
  'Continuous30Days'
])
param cosmosBackupTier string = 'Continuous7Days'

@description('Public network access of the Cosmos DB account (local keys are always disabled; access is by Microsoft Entra ID).')
@allowed([
  'Enabled'
  'Disabled'
])
param cosmosPublicNetworkAccess string = 'Enabled'

// ---------------------------------------------------------------------------------------------------
// Key Vault
// ---------------------------------------------------------------------------------------------------

@description('Default action of the Key Vault firewall. Deny requires virtual network integration of the Function App.')
@allowed([
  'Allow'
  'Deny'
])
param keyVaultNetworkDefaultAction string = 'Allow'

@description('IP addresses or CIDR ranges allowed through the Key Vault firewall when its default action is Deny.')
param keyVaultAllowedIpRanges array = []

@description('Object id of the Microsoft Entra group (or user) of the operators who set the secrets (Key Vault Secrets Officer). Empty: no assignment.')
param keyVaultSecretsOfficerPrincipalId string = ''

@description('Principal type of keyVaultSecretsOfficerPrincipalId.')
@allowed([
  'Group'
  'User'
  'ServicePrincipal'
])
param keyVaultSecretsOfficerPrincipalType string = 'Group'

// ---------------------------------------------------------------------------------------------------
// Public proof
// ---------------------------------------------------------------------------------------------------

@description('Key Vault key (EC P-256) that certifies the short-lived signing keys of receipts, certificates and seals (PROOF_KEY_NAME).')
@minLength(1)
@maxLength(127)
param proofKeyName string = 'proof-signing'

@description('How long after creation Key Vault makes a new version of the proof key (ISO 8601 duration).')
param proofKeyRotateAfter string = 'P1Y'

@description('Hours an instance\'s short-lived signing key may sign before the proof key certifies a new one (PROOF_SIGNING_KEY_HOURS).')
@minValue(1)
@maxValue(48)
param proofSigningKeyHours int = 6

@description('Days each ledger seal stays immutable after it is written.')
@minValue(1)
@maxValue(146000)
param sealRetentionDays int = 3650

// ---------------------------------------------------------------------------------------------------
// Monitoring and alerts
// ---------------------------------------------------------------------------------------------------

@description('Days the Log Analytics workspace keeps logs.')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Daily ingestion cap of the Log Analytics workspace in GB; -1 means no cap.')
@minValue(-1)
param logDailyQuotaGb int = -1

@description('Email address that receives the alerts.')
@minLength(3)
param alertEmailAddress string

@description('Failed function executions in 5 minutes above which the failure alert fires.')
@minValue(0)
param failedExecutionsThreshold int = 0

// ---------------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------------

var token = take(uniqueString(subscription().id, resourceGroup().id, environmentName), 6)
var baseName = '${namePrefix}-${environmentName}'
var allTags = union({
  application: 'privacy-backend'
  environment: environmentName
}, tags)
var storageAccountName = take(toLower('st${namePrefix}${environmentName}${token}'), 24)
var keyVaultName = take('kv-${baseName}-${token}', 24)
var cosmosAccountName = 'cosmos-${baseName}-${token}'
var functionAppName = 'func-${baseName}-${token}'
var storageDeclaration = loadJsonContent('../declarations/storage.json')
var declaredQueues = [for queue in storageDeclaration.queues: queue.name]
var exportsContainerName = storageDeclaration.blobContainers[0].name
var sealsContainerName = storageDeclaration.blobContainers[1].name
var sealsAccountName = take(toLower('stseal${namePrefix}${environmentName}${token}'), 24)
var exportsHoldTag = storageDeclaration.blobContainers[0].holdTag
var deploymentContainerName = 'app-package'

// ---------------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------------

module monitoring 'modules/monitoring.bicep' = {
  name: '${environmentName}-monitoring'
  params: {
    location: location
    tags: allTags
    workspaceName: 'log-${baseName}'
    appInsightsName: 'appi-${baseName}'
    retentionInDays: logRetentionDays
    dailyQuotaGb: logDailyQuotaGb
    disableLocalAuth: true
  }
}

module storage 'modules/storage.bicep' = {
  name: '${environmentName}-storage'
  params: {
    location: location
    tags: allTags
    name: storageAccountName
    skuName: storageSku
    queues: union(declaredQueues, extraQueues)
    exportsContainerName: exportsContainerName
    deploymentContainerName: deploymentContainerName
    exportRetentionDays: exportRetentionDays
    exportsHoldTagName: exportsHoldTag.name
    exportsHoldTagFree: exportsHoldTag.free
    workspaceId: monitoring.outputs.workspaceId
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: '${environmentName}-cosmos'
  params: {
    location: location
    tags: allTags
    accountName: cosmosAccountName
    capacityMode: cosmosCapacityMode
    autoscaleMaxThroughput: cosmosAutoscaleMaxThroughput
    backupTier: cosmosBackupTier
    publicNetworkAccess: cosmosPublicNetworkAccess
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: '${environmentName}-keyvault'
  params: {
    location: location
    tags: allTags
    name: keyVaultName
    networkDefaultAction: keyVaultNetworkDefaultAction
    allowedIpRanges: keyVaultAllowedIpRanges
    secretsOfficerPrincipalId: keyVaultSecretsOfficerPrincipalId
    secretsOfficerPrincipalType: keyVaultSecretsOfficerPrincipalType
    workspaceId: monitoring.outputs.workspaceId
    proofKeyName: proofKeyName
    proofKeyRotateAfter: proofKeyRotateAfter
  }
}

module ledgerSeals 'modules/ledgerseals.bicep' = {
  name: '${environmentName}-ledgerseals'
  params: {
    location: location
    tags: allTags
    name: sealsAccountName
    skuName: storageSku
    containerName: sealsContainerName
    retentionDays: sealRetentionDays
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: '${environmentName}-functionapp'
  params: {
    location: location
    tags: allTags
    planName: 'plan-${baseName}'
    appName: functionAppName
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: deploymentContainerName
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    zoneRedundant: functionAppZoneRedundant
  }
}

module roles 'modules/roles.bicep' = {
  name: '${environmentName}-roles'
  params: {
    principalId: functionApp.outputs.principalId
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    cosmosAccountName: cosmos.outputs.accountName
    cosmosDatabaseName: cosmos.outputs.databaseName
    proofKeyName: proofKeyName
    sealsAccountName: ledgerSeals.outputs.name
    sealsContainerName: sealsContainerName
  }
}

// Applied after the role assignments, so that the first start resolves the Key Vault references and
// reaches host storage with the identity.
module appSettings 'modules/appsettings.bicep' = {
  name: '${environmentName}-appsettings'
  params: {
    functionAppName: functionApp.outputs.name
    environmentName: environmentName
    storageAccountName: storage.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    keyVaultName: keyVault.outputs.name
    keyVaultUri: keyVault.outputs.uri
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmos.outputs.databaseName
    userJwtIssuer: userJwtIssuer
    userJwtAudience: userJwtAudience
    userJwksUri: userJwksUri
    staffJwtIssuer: staffJwtIssuer
    staffJwtAudience: staffJwtAudience
    staffJwksUri: staffJwksUri
    corsAllowedOrigins: corsAllowedOrigins
    privacyPolicyUrl: privacyPolicyUrl
    visitorCookieDomain: visitorCookieDomain
    visitorCookieName: visitorCookieName
    cookieConsentMaxAgeDays: cookieConsentMaxAgeDays
    catalogCacheSeconds: catalogCacheSeconds
    stripeApiBase: stripeApiBase
    sendgridApiHost: sendgridApiHost
    signingKeySecretName: signingKeySecretName
    proofKeyName: proofKeyName
    proofSigningKeyHours: proofSigningKeyHours
    proofSealsBlobEndpoint: ledgerSeals.outputs.blobEndpoint
    publicApiUrl: 'https://${functionApp.outputs.defaultHostName}/api'
    mailFrom: mailFrom
    dsrStaffEmail: dsrStaffEmail
    dsrErasureNeedsApproval: dsrErasureNeedsApproval
    dsrGdprTimeZone: dsrGdprTimeZone
    incidentStaffEmail: incidentStaffEmail
    incidentUnconfirmedGraceSeconds: incidentUnconfirmedGraceSeconds
    sendgridEventWebhookPublicKey: sendgridEventWebhookPublicKey
    sendgridMarketingGroupId: sendgridMarketingGroupId
    disclosureStaffEmail: disclosureStaffEmail
    noticesCacheSeconds: 30
    dsrGdprPublicHolidays: dsrGdprPublicHolidays
    exportLinkHours: 72
    exportRetentionDays: exportRetentionDays
    retentionSchedule: retentionSchedule
    retentionPeriods: retentionPeriods
  }
  dependsOn: [
    roles
  ]
}

module alerts 'modules/alerts.bicep' = {
  name: '${environmentName}-alerts'
  params: {
    location: location
    tags: allTags
    namePrefix: baseName
    actionGroupShortName: take('${namePrefix}${environmentName}', 12)
    alertEmailAddress: alertEmailAddress
    workspaceId: monitoring.outputs.workspaceId
    storageAccountName: storage.outputs.name
    appInsightsId: monitoring.outputs.appInsightsId
    failedExecutionsThreshold: failedExecutionsThreshold
  }
}

// ---------------------------------------------------------------------------------------------------
// Outputs (names and endpoints only; nothing secret)
// ---------------------------------------------------------------------------------------------------

@description('Name of the Function App.')
output functionAppName string = functionApp.outputs.name

@description('Base URL of the Function App.')
output functionAppUrl string = 'https://${functionApp.outputs.defaultHostName}'

@description('Name of the Key Vault where operators put the app secrets.')
output vaultName string = keyVault.outputs.name

@description('URI of the Key Vault.')
output vaultUri string = keyVault.outputs.uri

@description('Name of the storage account of the immutable ledger seals.')
output sealsAccountName string = ledgerSeals.outputs.name

@description('Name of the storage account.')
output storageAccountName string = storage.outputs.name

@description('Name of the Cosmos DB account.')
output cosmosAccountName string = cosmos.outputs.accountName

@description('Cosmos DB account endpoint.')
output cosmosEndpoint string = cosmos.outputs.endpoint

@description('Name of the Application Insights component.')
output appInsightsName string = monitoring.outputs.appInsightsName
