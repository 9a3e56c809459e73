// Function App on the Flex Consumption plan (FC1, Linux, Python 3.11) with a system-assigned identity.
// Its app settings are a separate resource (appsettings.bicep), applied after the identity has its roles,
// so Key Vault references and identity-based connections resolve on first start.

@description('Azure region of the plan and the app. Must offer the Flex Consumption plan (az functionapp list-flexconsumption-locations).')
param location string

@description('Tags applied to every resource of this module.')
param tags object

@description('Name of the Flex Consumption plan.')
@minLength(1)
@maxLength(60)
param planName string

@description('Name of the Function App (also its host name: <name>.azurewebsites.net).')
@minLength(2)
@maxLength(60)
param appName string

@description('Blob endpoint of the storage account that holds the deployment package container.')
param storageBlobEndpoint string

@description('Blob container that holds the deployment package.')
@minLength(3)
@maxLength(63)
param deploymentContainerName string

@description('Upper limit of instances the app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory of each instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('Spread instances over availability zones. On Flex Consumption this keeps at least two always-ready instances per function group, billed while idle, and is offered only in some regions.')
param zoneRedundant bool

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
    zoneRedundant: zoneRedundant
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    publicNetworkAccess: 'Enabled'
    clientAffinityEnabled: false
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      remoteDebuggingEnabled: false
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

// No basic (user name and password) publishing: deployments authenticate with Microsoft Entra ID.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

@description('Name of the Function App.')
output name string = site.name

@description('Resource id of the Function App.')
output id string = site.id

@description('Default host name of the Function App.')
output defaultHostName string = site.properties.defaultHostName

@description('Object id of the Function App\'s system-assigned managed identity.')
output principalId string = site.identity.principalId
