// Cosmos DB for NoSQL: the account, the database and every container of declarations/cosmos.json.
// The declaration is the one list of containers; a container added there is created here with no
// change to this file.

@description('Azure region of the Cosmos DB account.')
param location string

@description('Tags applied to every resource of this module.')
param tags object

@description('Name of the Cosmos DB account (3-44 lowercase letters, digits and hyphens, globally unique).')
@minLength(3)
@maxLength(44)
param accountName string

@description('Serverless (pay per request) or Provisioned (database-level autoscale throughput). Chosen when the account is created.')
@allowed([
  'Serverless'
  'Provisioned'
])
param capacityMode string

@description('Maximum RU/s of the database-level autoscale throughput; used only when capacityMode is Provisioned.')
@minValue(1000)
@maxValue(1000000)
param autoscaleMaxThroughput int

@description('Continuous backup tier: point-in-time restore over the last 7 or 30 days.')
@allowed([
  'Continuous7Days'
  'Continuous30Days'
])
param backupTier string

@description('Public network access of the account. Access is by Microsoft Entra ID only (local keys are disabled).')
@allowed([
  'Enabled'
  'Disabled'
])
param publicNetworkAccess string

var declaration = loadJsonContent('../../declarations/cosmos.json')
var databaseName = declaration.database
var serverless = capacityMode == 'Serverless'

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: accountName
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    capabilities: serverless ? [
      {
        name: 'EnableServerless'
      }
    ] : []
    backupPolicy: {
      type: 'Continuous'
      continuousModeProperties: {
        tier: backupTier
      }
    }
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: publicNetworkAccess
    enableAutomaticFailover: false
    enableMultipleWriteLocations: false
    enableFreeTier: false
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
    options: serverless ? {} : {
      autoscaleSettings: {
        maxThroughput: autoscaleMaxThroughput
      }
    }
  }
}

// defaultTtl is set only when the declaration gives a number (-1 or seconds); null leaves TTL off.
// One container at a time: concurrent control-plane operations on one Cosmos DB account can fail with a conflict.
@batchSize(1)
resource containers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = [for container in declaration.containers: {
  parent: database
  name: container.id
  properties: {
    resource: union({
      id: container.id
      partitionKey: {
        paths: [
          container.partitionKey
        ]
        kind: 'Hash'
        version: 2
      }
      indexingPolicy: {
        indexingMode: 'consistent'
        automatic: true
        includedPaths: container.indexing.includedPaths
        excludedPaths: container.indexing.excludedPaths
      }
    }, (container.defaultTtl == null) ? {} : {
      defaultTtl: any(container.defaultTtl)
    })
    options: {}
  }
}]

@description('Name of the Cosmos DB account.')
output accountName string = account.name

@description('Resource id of the Cosmos DB account.')
output accountId string = account.id

@description('Document endpoint of the account (https://<name>.documents.azure.com:443/).')
output endpoint string = account.properties.documentEndpoint

@description('Id of the database, as declared in declarations/cosmos.json.')
output databaseName string = database.name
