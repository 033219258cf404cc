/**
 * The Model Monitor's GraphQL: each concept defines its types and operations beside its service
 * (`<concept>/schema.ts`); importing this file registers them all with the builder. Results that can
 * fail are unions with the typed errors (directResult).
 */
import './windows/schema.ts';
import './checks/schema.ts';
import './metrics/schema.ts';
import './baselines/schema.ts';
import './executions/schema.ts';
import './quality/schema.ts';
import './schedules/schema.ts';
import './alerts/schema.ts';
