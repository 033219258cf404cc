/** Alert channels and their deliveries, as the service hands them out (a channel's secret never leaves the store). */

export const CHANNEL_KINDS = ['WEBHOOK', 'SLACK'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

export const DELIVERY_STATUSES = ['PENDING', 'DELIVERED', 'FAILED'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const DELIVERY_KINDS = ['ALERT', 'TEST'] as const;
export type DeliveryKind = (typeof DELIVERY_KINDS)[number];

export interface ChannelView {
  id: string;
  name: string;
  kind: ChannelKind;
  url: string;
  /** the secret's last 4 characters, to tell which one is set */
  secretHint: string;
  /** endpoint names whose alerts the channel receives; empty: every endpoint */
  endpoints: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** what the sender needs: the view and the signing key */
export interface ChannelWithSecret extends ChannelView {
  secret: string;
}

export interface ChannelInput {
  name: string;
  kind: ChannelKind;
  url: string;
  secret: string;
  endpoints?: readonly string[] | null;
}

/** absent or null fields keep their current value */
export interface ChannelUpdate {
  kind?: ChannelKind | null;
  url?: string | null;
  secret?: string | null;
  endpoints?: readonly string[] | null;
}

export interface AttemptView {
  attempt: number;
  at: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
}

export interface DeliveryView {
  id: string;
  channelId: string;
  kind: DeliveryKind;
  status: DeliveryStatus;
  executionId: string | null;
  endpoint: string | null;
  attemptCount: number;
  nextAttemptAt: Date | null;
  lastError: string | null;
  createdAt: Date;
  finishedAt: Date | null;
  attempts: AttemptView[];
}
