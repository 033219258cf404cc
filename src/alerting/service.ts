/**
 * Alert channels: created, changed, deleted and tested by admins (auth/operations.ts), listed without
 * their secrets, and each channel's deliveries with every attempt.
 */
import { randomUUID } from 'node:crypto';
import type { EndpointLookup } from '../endpoints/types.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { validateResourceName } from '../monitor/resource-name.ts';
import { pageSize } from '../paging.ts';
import { checkDestination, type DestinationPolicy, DestinationRefused } from './destination.ts';
import { testBody } from './payload.ts';
import type { AlertStore } from './store.ts';
import type {
  ChannelInput,
  ChannelUpdate,
  ChannelView,
  ChannelWithSecret,
  DeliveryStatus,
  DeliveryView,
} from './types.ts';
import type { DeliveryWorker } from './worker.ts';

/** printable ASCII without spaces, 16–256 characters: long enough to resist guessing, short enough to bound */
const SECRET = /^[\x21-\x7e]{16,256}$/;
export const MAX_CHANNEL_ENDPOINTS = 100;

export interface AlertChannelServiceDeps {
  store: AlertStore;
  worker: Pick<DeliveryWorker, 'attempt' | 'leaseMs'>;
  endpoints: Pick<EndpointLookup, 'get'>;
  destinations: DestinationPolicy;
  /** identifies this process in the lease of a test delivery */
  owner: string;
  clock?: () => Date;
}

/** what the API shows of a channel: everything but its secret */
function view({ secret: _secret, ...channel }: ChannelWithSecret): ChannelView {
  return channel;
}

export class AlertChannelService {
  readonly #clock: () => Date;

  constructor(private readonly deps: AlertChannelServiceDeps) {
    this.#clock = deps.clock ?? (() => new Date());
  }

  async create(input: ChannelInput): Promise<ChannelView> {
    validateResourceName(input.name, 'Alert channel', 'input.name');
    validateSecret(input.secret);
    const url = await this.#checkUrl(input.url);
    const endpoints = await this.#endpoints(input.endpoints);
    const created = await this.deps.store.insertChannel({ ...input, url, endpoints });
    if (!created) throw new ConflictError(`Alert channel '${input.name}' already exists`);
    return view(created);
  }

  async update(name: string, input: ChannelUpdate): Promise<ChannelView> {
    const current = await this.#require(name);
    if (input.secret != null) validateSecret(input.secret);
    const url = input.url == null ? current.url : await this.#checkUrl(input.url);
    const endpoints = input.endpoints == null ? current.endpoints : await this.#endpoints(input.endpoints);
    const updated = await this.deps.store.updateChannel(current.id, {
      kind: input.kind ?? current.kind,
      url,
      secret: input.secret ?? current.secret,
      endpoints,
    });
    if (!updated) throw new NotFoundError('AlertChannel', name);
    return view(updated);
  }

  /** deletes the channel and its deliveries (pending ones are not sent); returns what was deleted */
  async delete(name: string): Promise<ChannelView> {
    const current = await this.#require(name);
    if (!(await this.deps.store.deleteChannel(current.id))) throw new NotFoundError('AlertChannel', name);
    return view(current);
  }

  async list(): Promise<ChannelView[]> {
    return (await this.deps.store.channels()).map(view);
  }

  /** Sends a test message now, once (no retry), and answers the delivery with its attempt. */
  async test(name: string): Promise<DeliveryView> {
    const channel = await this.#require(name);
    const id = randomUUID();
    const now = this.#clock();
    const delivery = await this.deps.store.insertTest(
      { id, channelId: channel.id, body: testBody(channel.kind, id, channel.name, now) },
      this.deps.owner,
      now,
      this.deps.worker.leaseMs,
    );
    await this.deps.worker.attempt(delivery);
    const stored = await this.deps.store.delivery(id);
    if (!stored) throw new NotFoundError('AlertChannel', name, `Alert channel '${name}' was deleted during its test`);
    return stored;
  }

  /** a channel's deliveries, newest first (first: 1–500, default 20) */
  async deliveries(
    name: string,
    options: { status?: DeliveryStatus | null; first?: number | null } = {},
  ): Promise<DeliveryView[]> {
    const take = pageSize(options.first, 'first', 20);
    const channel = await this.#require(name);
    return this.deps.store.deliveries(channel.id, { status: options.status, take });
  }

  async #require(name: string): Promise<ChannelWithSecret> {
    const channel = await this.deps.store.channelByName(name);
    if (!channel) throw new NotFoundError('AlertChannel', name);
    return channel;
  }

  /** the URL as it will be requested (normalized: `http://2130706433` is `http://127.0.0.1/`) */
  async #checkUrl(url: string): Promise<string> {
    try {
      return (await checkDestination(url, this.deps.destinations)).url.href;
    } catch (error) {
      if (error instanceof DestinationRefused) throw new ValidationError('input.url', `url refused: ${error.message}`);
      throw error;
    }
  }

  /** the names, each an existing endpoint, without repeats */
  async #endpoints(names: readonly string[] | null | undefined): Promise<string[]> {
    if (!names?.length) return [];
    if (names.length > MAX_CHANNEL_ENDPOINTS)
      throw new ValidationError(
        'input.endpoints',
        `at most ${MAX_CHANNEL_ENDPOINTS} endpoints (or none: every endpoint)`,
      );
    const unique = [...new Set(names)];
    for (const name of unique) if (!(await this.deps.endpoints.get(name))) throw new NotFoundError('Endpoint', name);
    return unique;
  }
}

function validateSecret(secret: string): void {
  if (!SECRET.test(secret))
    throw new ValidationError(
      'input.secret',
      'secret must be 16–256 printable ASCII characters without spaces (e.g. `openssl rand -hex 32`)',
    );
}
