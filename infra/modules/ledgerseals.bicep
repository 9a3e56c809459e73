// The append-only store of the consent ledger's seals: a storage account of its own, with blob versioning
// and one container under version-level immutability (WORM) and a time-based retention policy, so no
// identity (the app's included) can change or delete a seal within the retention period. A separate
// account keeps versioning away from the export archives, which must really be deleted.

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

@description('The container of the seals (declarations/storage.json).')
@minLength(3)
@maxLength(63)
param containerName string

@description('Days each seal is kept immutable after it is written: nobody can change or delete it before.')
@minValue(1)
@maxValue(146000)
param retentionDays int

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
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    // Version-level immutability needs versioning; seals are written once, so there are no old versions.
    isVersioningEnabled: true
    deleteRetentionPolicy: {
      enabled: true
      days: 30
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 30
    }
  }
}

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: containerName
  properties: {
    publicAccess: 'None'
    immutableStorageWithVersioning: {
      enabled: true
    }
  }
}

// The container's default time-based retention: every blob version written is immutable for retentionDays.
// ARM cannot lock it; operators lock it once checked (docs/operations.md), after which it can only be extended.
resource retention 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = {
  parent: container
  name: 'default'
  properties: {
    immutabilityPeriodSinceCreationInDays: retentionDays
    allowProtectedAppendWrites: false
    allowProtectedAppendWritesAll: false
  }
}

@description('Name of the seals storage account.')
output name string = account.name

@description('Blob endpoint of the seals storage account (PROOF_SEALS_BLOB_ENDPOINT).')
output blobEndpoint string = account.properties.primaryEndpoints.blob
