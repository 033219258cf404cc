/** When a failed delivery is tried again: exponential backoff with jitter, and when it is given up. */

export interface RetryPolicy {
  /** the delay after the first failed attempt (before jitter) */
  baseMs: number;
  /** no delay is longer */
  maxDelayMs: number;
  /** attempts in all, the first included */
  maxAttempts: number;
  /** no attempt starts later than this after the delivery was queued */
  maxAgeMs: number;
}

/**
 * The delay after failed attempt `attempt` (1, 2, …): base × 2^(attempt−1), capped, then drawn uniformly
 * from its upper half ("equal jitter"), so that deliveries failed together (a receiver down) do not
 * come back together, yet each waits at least half its step.
 */
export function retryDelayMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const step = Math.min(policy.maxDelayMs, policy.baseMs * 2 ** Math.min(attempt - 1, 40));
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * Whether a failed attempt is worth repeating: no answer at all, a timeout (408), too many requests
 * (429) or a server error (5xx). Other answers (a redirect, which is not followed; 4xx: the request
 * itself is refused) would be refused again.
 */
export function isRetryable(statusCode: number | null): boolean {
  return statusCode === null || statusCode === 408 || statusCode === 429 || statusCode >= 500;
}

/**
 * A response's `Retry-After` in milliseconds, when it is a number of seconds (Slack sends one with its
 * 429s); an HTTP date or anything else is ignored, and the backoff alone decides.
 */
export function retryAfterMs(header: string | undefined): number | undefined {
  if (!header || !/^\d{1,7}$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
}

/**
 * The next attempt's time, or null when the delivery is given up (attempts or age exhausted). A
 * receiver's Retry-After postpones it (never beyond maxDelayMs), never brings it forward.
 */
export function nextAttemptAt(
  attempt: number,
  createdAt: Date,
  now: Date,
  policy: RetryPolicy,
  random?: () => number,
  retryAfter?: number,
): Date | null {
  if (attempt >= policy.maxAttempts) return null;
  const delay = Math.max(retryDelayMs(attempt, policy, random), Math.min(retryAfter ?? 0, policy.maxDelayMs));
  const at = new Date(now.getTime() + delay);
  return at.getTime() - createdAt.getTime() > policy.maxAgeMs ? null : at;
}
