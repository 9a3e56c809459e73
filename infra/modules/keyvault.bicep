// Key Vault for the app's secrets. Authorization is Azure RBAC only; the template holds no secret value:
// operators put each secret in with `az keyvault secret set` (see docs/operations.md).

@description('Azure region of the vault.')
param location string

@description('Tags applied to every resource of this module.')
param tags object

@description('Name of the vault (3-24 letters, digits and hyphens, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Default action of the vault firewall. Allow keeps the vault reachable from the Function App, whose Flex Consumption outbound addresses are not fixed; Deny needs virtual network integration.')
@allowed([
  'Allow'
  'Deny'
])
param networkDefaultAction string

@description('Public IP addresses or CIDR ranges allowed through the vault firewall when the default action is Deny (for example the operators\' addresses).')
param allowedIpRanges array

@description('Object id of a Microsoft Entra group or user that may set and rotate secrets (Key Vault Secrets Officer). Empty: no assignment.')
param secretsOfficerPrincipalId string

@description('Principal type of secretsOfficerPrincipalId.')
@allowed([
  'Group'
  'User'
  'ServicePrincipal'
])
param secretsOfficerPrincipalType string

@description('Resource id of the Log Analytics workspace that receives the vault audit log.')
param workspaceId string

@description('Name of the EC P-256 key that certifies the app\'s short-lived signing keys (PROOF_KEY_NAME). Its private half never leaves the vault.')
@minLength(1)
@maxLength(127)
param proofKeyName string

@description('How long after creation a new version of the proof key is made (ISO 8601 duration). Older enabled versions stay published, so what they signed still verifies.')
param proofKeyRotateAfter string

// Key Vault Secrets Officer: manage secrets (set, rotate, delete), no access to keys or certificates.
var secretsOfficerRoleId = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
var ipRules = [for range in allowedIpRanges: {
  value: range
}]

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: networkDefaultAction
      ipRules: ipRules
      virtualNetworkRules: []
    }
  }
}

// The proof key: signs only (sign and verify), never exported. Key Vault makes a new version by the
// rotation policy; the app signs with the newest and publishes every enabled one.
resource proofKey 'Microsoft.KeyVault/vaults/keys@2023-07-01' = {
  parent: vault
  name: proofKeyName
  properties: {
    kty: 'EC'
    curveName: 'P-256'
    keyOps: [
      'sign'
      'verify'
    ]
    attributes: {
      enabled: true
      exportable: false
    }
    rotationPolicy: {
      attributes: {
        expiryTime: 'P2Y'
      }
      lifetimeActions: [
        {
          action: {
            type: 'rotate'
          }
          trigger: {
            timeAfterCreate: proofKeyRotateAfter
          }
        }
        {
          action: {
            type: 'notify'
          }
          trigger: {
            timeBeforeExpiry: 'P30D'
          }
        }
      ]
    }
  }
}

resource secretsOfficer 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(secretsOfficerPrincipalId)) {
  name: guid(vault.id, secretsOfficerPrincipalId, secretsOfficerRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', secretsOfficerRoleId)
    principalId: secretsOfficerPrincipalId
    principalType: secretsOfficerPrincipalType
    description: 'Operators set and rotate the app secrets.'
  }
}

resource vaultDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'audit-to-log-analytics'
  scope: vault
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        categoryGroup: 'audit'
        enabled: true
      }
    ]
  }
}

@description('Name of the vault.')
output name string = vault.name

@description('Resource id of the vault.')
output id string = vault.id

@description('URI of the vault (https://<name>.vault.azure.net/).')
output uri string = vault.properties.vaultUri
