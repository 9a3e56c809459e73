// Development environment. Values that differ per installation come from environment variables
// (readEnvironmentVariable, read when the CLI builds this file); docs/operations.md lists them.
using 'main.bicep'

param environmentName = 'dev'

// Identity providers and browser origins.
param userJwtIssuer = readEnvironmentVariable('USER_JWT_ISSUER')
param userJwtAudience = readEnvironmentVariable('USER_JWT_AUDIENCE')
param userJwksUri = readEnvironmentVariable('USER_JWKS_URI')
param staffJwtAudience = readEnvironmentVariable('STAFF_JWT_AUDIENCE')
param corsAllowedOrigins = readEnvironmentVariable('CORS_ALLOWED_ORIGINS', '')

// Operators.
param alertEmailAddress = readEnvironmentVariable('ALERT_EMAIL_ADDRESS')
param keyVaultSecretsOfficerPrincipalId = readEnvironmentVariable('KEY_VAULT_SECRETS_OFFICER_ID', '')

// Small and cheap: locally redundant storage, serverless Cosmos DB with 7 days of point-in-time restore.
param storageSku = 'Standard_LRS'
param cosmosCapacityMode = 'Serverless'
param cosmosBackupTier = 'Continuous7Days'
param maximumInstanceCount = 40
param instanceMemoryMB = 2048
param exportRetentionDays = 7
param logRetentionDays = 30
param logDailyQuotaGb = 1
