/**
 * Shutting down. What it does to subscriptions: when the signal aborts, every open subscription completes,
 * over either transport. An SSE stream then ends with its `complete` event and the response closes;
 * a graphql-ws operation gets its `complete` message (the socket itself is closed afterwards with 1001
 * "Going away", server/app.ts). A subscription started after the signal aborted completes at once.
 */
import type { Plugin } from 'graphql-yoga';

export function useEndSubscriptionsOnShutdown(shutdown: AbortSignal): Plugin {
  return {
    onSubscribe() {
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(untilAborted(result, shutdown));
        },
      };
    },
  };
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * `source` until `signal` aborts: then the pending `next()` answers done and the source is returned
 * (its resources released). No listener or promise is left on the signal per event: only one abort
 * listener per subscription, removed when it ends.
 */
export function untilAborted<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let stopWaiting: ((result: IteratorResult<T>) => void) | undefined;
  let finished = false;
  const onAbort = () => stopWaiting?.(DONE);
  signal.addEventListener('abort', onAbort, { once: true });
  const finish = async (): Promise<IteratorResult<T>> => {
    if (!finished) {
      finished = true;
      signal.removeEventListener('abort', onAbort);
      await iterator.return?.();
    }
    return DONE;
  };
  return {
    async next() {
      if (finished || signal.aborted) return finish();
      let result: IteratorResult<T>;
      try {
        result = await new Promise<IteratorResult<T>>((resolve, reject) => {
          stopWaiting = resolve;
          iterator.next().then(resolve, reject);
        });
      } catch (error) {
        finished = true;
        signal.removeEventListener('abort', onAbort);
        throw error;
      } finally {
        stopWaiting = undefined;
      }
      if (result.done) return finish();
      return result;
    },
    return: finish,
    async throw(error: unknown) {
      await finish();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** true when `promise` settles (either way) before `deadline`, a performance.now() time */
export async function settlesBefore(promise: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - performance.now()));
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
