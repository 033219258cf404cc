/** A baseline named by a client, by name or id, which must belong to the endpoint (schedules and ad-hoc runs). */
import type { Endpoint } from '../../endpoints/types.ts';
import { NotFoundError } from '../../errors.ts';
import type { BaselineStore } from './store.ts';
import type { BaselineRecord } from './types.ts';

export async function endpointBaseline(
  baselines: Pick<BaselineStore, 'get' | 'getByName'>,
  endpoint: Pick<Endpoint, 'id' | 'name'>,
  ref: string,
): Promise<BaselineRecord> {
  const byName = await baselines.getByName(endpoint.id, ref);
  if (byName) return byName;
  const byId = await baselines.get(ref);
  if (byId?.endpointId === endpoint.id) return byId;
  throw new NotFoundError('Baseline', ref, `Endpoint '${endpoint.name}' has no baseline '${ref}' (by name or id)`);
}
