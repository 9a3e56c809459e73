// Least-privilege data-plane access of the Function App's managed identity. Every assignment has a
// deterministic guid() name, so redeploying is idempotent.

@description('Object id of the Function App\'s system-assigned managed identity.')
param principalId string

@description('Name of the storage account (host storage, queues, exports, deployment package).')
param storageAccountName string

@description('Name of the Key Vault that holds the app secrets.')
param keyVaultName string

@description('Name of the vault key that certifies the app\'s signing keys.')
param proofKeyName string

@description('Name of the storage account with the immutable container of ledger seals.')
param sealsAccountName string

@description('Name of the container of ledger seals.')
param sealsContainerName string

@description('Name of the Application Insights component the app sends telemetry to.')
param appInsightsName string

@description('Name of the Cosmos DB account.')
param cosmosAccountName string

@description('Id of the Cosmos DB database the app reads and writes.')
param cosmosDatabaseName string

// Built-in Azure role definitions (ids are the same in every tenant).
var roleIds = {
  // Host storage with an identity (AzureWebJobsStorage__accountName) and the Flex Consumption deployment
  // container need Storage Blob Data Owner; the app writes data-export archives with the same role.
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  // Queue triggers and outputs: read, process and send messages, move them to the poison queues.
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  // Key Vault references in app settings and the keys the app reads at run time: read secret values only.
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  // Telemetry to an Application Insights component that accepts Microsoft Entra authentication only.
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

// Cosmos DB Built-in Data Contributor (data plane): read and write items, no account or key management.
var cosmosDataContributorRoleId = '00000000-0000-0000-0000-000000000002'

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource proofKey 'Microsoft.KeyVault/vaults/keys@2023-07-01' existing = {
  parent: vault
  name: proofKeyName
}

resource sealsAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: sealsAccountName
}

resource sealsBlobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: sealsAccount
  name: 'default'
}

resource sealsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: sealsBlobService
  name: sealsContainerName
}

// Least privilege for public proof, narrower than any built-in role: read the proof key and sign with it
// (no encrypt, decrypt, wrap, create or delete); read and create seal blobs (no delete, and the container's
// immutability policy refuses overwrites).
resource proofKeySignerRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'proof-key-signer')
  properties: {
    roleName: 'Proof key signer (${resourceGroup().name})'
    description: 'Read a Key Vault key and sign digests with it; nothing else.'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: []
        notActions: []
        dataActions: [
          'Microsoft.KeyVault/vaults/keys/read'
          'Microsoft.KeyVault/vaults/keys/sign/action'
        ]
        notDataActions: []
      }
    ]
  }
}

resource sealWriterRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, 'ledger-seal-writer')
  properties: {
    roleName: 'Ledger seal writer (${resourceGroup().name})'
    description: 'Read blobs and create new ones in a container; no delete.'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroup().id
    ]
    permissions: [
      {
        actions: [
          'Microsoft.Storage/storageAccounts/blobServices/containers/read'
        ]
        notActions: []
        dataActions: [
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write'
          'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action'
        ]
        notDataActions: []
      }
    ]
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource cosmosAccount 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' existing = {
  name: cosmosAccountName
}

resource storageBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, principalId, roleIds.storageBlobDataOwner)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataOwner)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource storageQueueDataContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, principalId, roleIds.storageQueueDataContributor)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageQueueDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource keyVaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, principalId, roleIds.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource monitoringMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, principalId, roleIds.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Scoped to the database, not the account: the identity reaches only the declared database's containers.
resource cosmosDataContributor 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: cosmosAccount
  name: guid(cosmosAccount.id, principalId, cosmosDataContributorRoleId, cosmosDatabaseName)
  properties: {
    roleDefinitionId: '${cosmosAccount.id}/sqlRoleDefinitions/${cosmosDataContributorRoleId}'
    principalId: principalId
    scope: '${cosmosAccount.id}/dbs/${cosmosDatabaseName}'
  }
}

resource proofKeySigner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(proofKey.id, principalId, proofKeySignerRole.id)
  scope: proofKey
  properties: {
    roleDefinitionId: proofKeySignerRole.id
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'The app certifies its short-lived signing keys with the proof key.'
  }
}

resource sealWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(sealsContainer.id, principalId, sealWriterRole.id)
  scope: sealsContainer
  properties: {
    roleDefinitionId: sealWriterRole.id
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'The app writes each seal once; nobody changes it.'
  }
}
