// Alerts of one environment, both sent to an action group that emails the operators:
//  - poison messages: a log alert on the storage queue write logs (StorageQueueLogs) that fires when the
//    Functions host puts a message into any <queue>-poison queue, i.e. a message failed maxDequeueCount times;
//  - function failures: a metric alert on Application Insights' failed requests. The Functions host records
//    each invocation (HTTP or not) as a request, and marks it failed when the function raised.

@description('Azure region of the log alert rule (the workspace region).')
param location string

@description('Tags applied to every resource of this module.')
param tags object

@description('Prefix of the alert resource names.')
@minLength(3)
param namePrefix string

@description('Short name of the action group shown in notifications (at most 12 characters).')
@minLength(1)
@maxLength(12)
param actionGroupShortName string

@description('Email address that receives the alerts.')
@minLength(3)
param alertEmailAddress string

@description('Resource id of the Log Analytics workspace with the storage queue logs.')
param workspaceId string

@description('Name of the storage account whose poison queues are watched.')
param storageAccountName string

@description('Resource id of the Application Insights component of the Function App.')
param appInsightsId string

@description('Failed function executions in 5 minutes above which the failure alert fires.')
@minValue(0)
param failedExecutionsThreshold int

// One row per poison queue that received messages in the window; the alert is split by queue name.
var poisonQuery = 'StorageQueueLogs | where AccountName =~ "${storageAccountName}" and OperationName =~ "PutMessage" and StatusText =~ "Success" | extend Queue = tostring(split(tostring(parse_url(Uri).Path), "/")[1]) | where Queue endswith "-poison" | summarize PoisonedMessages = count() by Queue'

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${namePrefix}-operators'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: actionGroupShortName
    enabled: true
    emailReceivers: [
      {
        name: 'operators'
        emailAddress: alertEmailAddress
        useCommonAlertSchema: true
      }
    ]
  }
}

resource poisonMessages 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${namePrefix}-poison-messages'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: '${namePrefix}: message moved to a poison queue'
    description: 'A queue message failed processing on every attempt and the Functions host moved it to <queue>-poison. Inspect it, fix the cause, then requeue or delete it (docs/operations.md).'
    severity: 1
    enabled: true
    scopes: [
      workspaceId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    // The workspace has no StorageQueueLogs table until the first queue write is logged.
    skipQueryValidation: true
    autoMitigate: false
    criteria: {
      allOf: [
        {
          query: poisonQuery
          timeAggregation: 'Total'
          metricMeasureColumn: 'PoisonedMessages'
          dimensions: [
            {
              name: 'Queue'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

resource failedExecutions 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-failed-executions'
  location: 'global'
  tags: tags
  properties: {
    description: 'Function executions failed (an exception escaped a function). See the Failures blade of Application Insights.'
    severity: 2
    enabled: true
    scopes: [
      appInsightsId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'FailedExecutions'
          metricNamespace: 'microsoft.insights/components'
          metricName: 'requests/failed'
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: failedExecutionsThreshold
        }
      ]
    }
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

@description('Resource id of the action group.')
output actionGroupId string = actionGroup.id
