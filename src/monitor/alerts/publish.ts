/**
 * Alerts: an execution that completes with violations is published on `monitorAlert`, routed by
 * endpoint and once more under ALL_ENDPOINTS for subscribers of every endpoint. With REDIS_URL set
 * the bus fans the event out, so subscribers on every replica receive it whichever ran the execution.
 */
import type { PubSub } from 'graphql-yoga';
import type { EventMap } from '../../pubsub/events.ts';
import type { Violation } from '../checks/types.ts';
import type { ExecutionRecord } from '../executions/types.ts';
import type { MonitorAlert } from './types.ts';

/** not a valid endpoint name, so it cannot collide with one */
export const ALL_ENDPOINTS = '*';

/**
 * The alert of a schedule's execution with violations; null without violations, and for an ad-hoc
 * execution, which alerts nobody (someone is looking at it already): it is neither published nor
 * queued for the alert channels.
 */
export function alertOf(execution: ExecutionRecord, violations: Violation[]): MonitorAlert | null {
  const { scheduleName } = execution;
  if (!violations.length || scheduleName === null) return null;
  return {
    endpoint: execution.endpointName,
    schedule: scheduleName,
    executionId: execution.id,
    status: execution.status,
    message: execution.message,
    windowStart: execution.windowStart.toISOString(),
    windowEnd: execution.windowEnd.toISOString(),
    recordCount: execution.recordCount,
    violations,
    at: (execution.finishedAt ?? new Date()).toISOString(),
  };
}

export function publishAlert(pubsub: PubSub<EventMap>, alert: MonitorAlert): void {
  pubsub.publish('monitorAlert', alert.endpoint, alert);
  pubsub.publish('monitorAlert', ALL_ENDPOINTS, alert);
}

export function subscribeAlerts(pubsub: PubSub<EventMap>, endpoint?: string | null) {
  return pubsub.subscribe('monitorAlert', endpoint ?? ALL_ENDPOINTS);
}
