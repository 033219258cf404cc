/** The model a request names: through an endpoint, or by name (exactly one of the two). */
import { unavailableOr } from '../db/faults.ts';
import type { EndpointService } from '../endpoints/service.ts';
import { ValidationError } from '../errors.ts';

export interface ModelChoice {
  endpoint?: string | null | undefined;
  model?: string | null | undefined;
}

/** the model's name; NotFoundError for an unknown endpoint, ValidationError unless exactly one is given */
export async function modelOf(endpoints: Pick<EndpointService, 'snapshot'>, choice: ModelChoice): Promise<string> {
  const { endpoint, model } = choice;
  const hasEndpoint = endpoint !== null && endpoint !== undefined;
  if (hasEndpoint === (model !== null && model !== undefined))
    throw new ValidationError('endpoint', 'give exactly one of endpoint and model');
  if (!hasEndpoint) return model ?? '';
  const snapshot = await endpoints.snapshot(endpoint).catch((error: unknown) => {
    throw unavailableOr(error);
  });
  return snapshot.model;
}
