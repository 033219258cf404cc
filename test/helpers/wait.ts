/** Waiting in tests: a pause, and polling a probe until it yields a value or a deadline passes. */

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** the probe's first truthy value, polled every 25 ms; an error naming `what` after `timeoutMs` */
export async function until<T>(
  what: string,
  probe: () => Promise<T | null | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
