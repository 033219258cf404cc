/**
 * The role every root operation requires: one table, read by the authorization plugin before anything
 * executes (src/server/authorization.ts). A unit test walks the schema and fails for a root field
 * missing here, so an operation cannot be added without deciding who may call it; a field the table
 * does not know requires `admin` at run time (closed by default).
 */
import type { Role } from './roles.ts';

export type RootTypeName = 'Query' | 'Mutation' | 'Subscription';

export const OPERATION_ROLES: Readonly<Record<RootTypeName, Readonly<Record<string, Role>>>> = {
  Query: {
    serverInfo: 'read',
    endpoint: 'read',
    endpoints: 'read',
    capture: 'read',
    captures: 'read',
    baseline: 'read',
    baselines: 'read',
    monitoringSchedule: 'read',
    monitoringSchedules: 'read',
    monitoringExecution: 'read',
    monitoringExecutions: 'read',
    metrics: 'read',
    cronExpression: 'read',
    trial: 'read',
    saliency: 'read',
    // runs the model on the caller's image, as predict does
    explain: 'invoke',
    predictionGrid: 'read',
    // explains uploaded images, as explain does
    saliencyComparison: 'invoke',
    storage: 'read',
    apiKeys: 'admin',
    viewer: 'read',
    alertChannels: 'admin',
    alertDeliveries: 'admin',
  },
  Mutation: {
    predict: 'invoke',
    predictBatch: 'invoke',
    // the application that sent the predictions sends their labels (it holds their ids)
    putGroundTruth: 'invoke',
    createEndpoint: 'admin',
    updateEndpoint: 'admin',
    deleteEndpoint: 'admin',
    createBaseline: 'admin',
    deleteBaseline: 'admin',
    createMonitoringSchedule: 'admin',
    updateMonitoringSchedule: 'admin',
    deleteMonitoringSchedule: 'admin',
    pauseMonitoringSchedule: 'admin',
    resumeMonitoringSchedule: 'admin',
    runMonitoringSchedule: 'admin',
    runMonitoringJob: 'admin',
    replaceBaselineConstraints: 'admin',
    createApiKey: 'admin',
    revokeApiKey: 'admin',
    createAlertChannel: 'admin',
    updateAlertChannel: 'admin',
    deleteAlertChannel: 'admin',
    testAlertChannel: 'admin',
    // white-box: the perturbation reveals the model's gradients (FGSM's is their sign), and one call costs
    // up to 100 forward-backward runs; a red-team tool, not serving traffic
    createAdversarial: 'admin',
  },
  Subscription: {
    endpointChanged: 'read',
    predictions: 'read',
    monitorAlerts: 'read',
  },
};

/**
 * The role a root field requires; null for `__typename`, which any caller that got this far may ask.
 * Introspection (`__schema`, `__type`) reads the API's shape: `read`.
 */
export function requiredRole(rootType: RootTypeName, field: string): Role | null {
  if (field === '__typename') return null;
  if (field === '__schema' || field === '__type') return 'read';
  const table = OPERATION_ROLES[rootType];
  return Object.hasOwn(table, field) ? (table[field] ?? 'admin') : 'admin';
}
