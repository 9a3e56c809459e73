// Production environment. Values that differ per installation come from environment variables
// (readEnvironmentVariable, read when the CLI builds this file); docs/operations.md lists them.
using 'main.bicep'

param environmentName = 'prod'

// Identity providers and browser origins.
param userJwtIssuer = readEnvironmentVariable('USER_JWT_ISSUER')
param userJwtAudience = readEnvironmentVariable('USER_JWT_AUDIENCE')
param userJwksUri = readEnvironmentVariable('USER_JWKS_URI')
param staffJwtAudience = readEnvironmentVariable('STAFF_JWT_AUDIENCE')
param corsAllowedOrigins = readEnvironmentVariable('CORS_ALLOWED_ORIGINS', '')

// Operators.
param alertEmailAddress = readEnvironmentVariable('ALERT_EMAIL_ADDRESS')
param keyVaultSecretsOfficerPrincipalId = readEnvironmentVariable('KEY_VAULT_SECRETS_OFFICER_ID', '')

// Zone-redundant storage; Cosmos DB stays serverless (switching to 'Provisioned' with
// cosmosAutoscaleMaxThroughput needs a new account, see docs/operations.md) with 30 days of point-in-time
// restore. Zone redundancy of the Function App plan is off: see functionAppZoneRedundant in main.bicep.
param storageSku = 'Standard_ZRS'
param cosmosCapacityMode = 'Serverless'
param cosmosBackupTier = 'Continuous30Days'
param maximumInstanceCount = 100
param instanceMemoryMB = 2048
param exportRetentionDays = 7
param logRetentionDays = 90
param logDailyQuotaGb = -1
param failedExecutionsThreshold = 0
