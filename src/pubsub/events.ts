/**
 * The typed events of vigil: topic → [routing key?, payload]. Payloads cross Redis as JSON between
 * replicas, so they hold plain JSON values only (timestamps as ISO strings).
 */
import type { ApiKeyChange } from '../auth/service.ts';
import type { EndpointChange } from '../endpoints/types.ts';
import type { PredictionEvent } from '../inference/types.ts';
import type { MonitorAlert } from '../monitor/alerts/types.ts';

export type EventMap = {
  endpointChanged: [payload: EndpointChange];
  /** routed by endpoint name */
  prediction: [endpoint: string, payload: PredictionEvent];
  /** routed by endpoint name, and again under '*' for subscribers of every endpoint */
  monitorAlert: [endpoint: string, payload: MonitorAlert];
  /** a key created or revoked on some replica: every replica reloads its keys */
  apiKeysChanged: [payload: ApiKeyChange];
};
