// Storage account of the Function App: host storage (AzureWebJobsStorage, identity-based), the app's
// queues and their poison queues, the data-export container (whose lifecycle rule deletes only archives no
// legal hold covers) and the Flex Consumption deployment container.

@description('Azure region of the storage account.')
param location string

@description('Tags applied to every resource of this module.')
param tags object

@description('Name of the storage account (3-24 lowercase letters and digits, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Replication of the storage account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param skuName string

@description('Queues the app reads and writes. A poison queue <name>-poison is created for each.')
@minLength(1)
param queues array

@description('Blob container holding data-export archives.')
@minLength(3)
@maxLength(63)
param exportsContainerName string

@description('Blob container holding the Flex Consumption deployment package.')
@minLength(3)
@maxLength(63)
param deploymentContainerName string

@description('Days after creation when a blob under the exports container is deleted by the lifecycle policy.')
@minValue(1)
@maxValue(365)
param exportRetentionDays int

@description('Blob index tag the app keeps on each export archive: the lifecycle rule deletes only archives whose tag has the free value (declarations/storage.json holdTag).')
@minLength(1)
param exportsHoldTagName string

@description('Value of the hold tag on an archive no legal hold covers.')
@minLength(1)
param exportsHoldTagFree string

@description('Resource id of the Log Analytics workspace that receives the queue write logs (used by the poison-queue alert).')
param workspaceId string

var poisonQueues = [for queue in queues: '${queue}-poison']
var allQueues = concat(queues, poisonQueues)

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      services: {
        blob: {
          enabled: true
        }
        file: {
          enabled: true
        }
        queue: {
          enabled: true
        }
        table: {
          enabled: true
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    // Blob soft delete stays off: exported archives hold personal data and must really be gone when the
    // lifecycle rule deletes them; the deployment package is rebuilt from git. Deleted containers are kept.
    deleteRetentionPolicy: {
      enabled: false
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource exportsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: exportsContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource appQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for queue in allQueues: {
  parent: queueService
  name: queue
}]

resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'delete-expired-exports'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${exportsContainerName}/'
              ]
              // An archive a legal hold covers is tagged otherwise and left to the app, which deletes it
              // once the hold ends (GDPR Art. 17(3)(e): nothing held is deleted).
              blobIndexMatch: [
                {
                  name: exportsHoldTagName
                  op: '=='
                  value: exportsHoldTagFree
                }
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterCreationGreaterThan: exportRetentionDays
                }
              }
            }
          }
        }
      ]
    }
  }
  dependsOn: [
    exportsContainer
  ]
}

// Queue write operations (PutMessage and friends) go to the workspace as StorageQueueLogs: the poison-queue
// alert counts the messages the Functions host moves into a <queue>-poison queue.
resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'queue-writes-to-log-analytics'
  scope: queueService
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        category: 'StorageWrite'
        enabled: true
      }
    ]
  }
}

@description('Name of the storage account.')
output name string = account.name

@description('Resource id of the storage account.')
output id string = account.id

@description('Blob endpoint of the storage account (https://<name>.blob.core.windows.net/).')
output blobEndpoint string = account.properties.primaryEndpoints.blob

@description('Names of the poison queues, one for each app queue.')
output poisonQueueNames array = poisonQueues
