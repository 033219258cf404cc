/** What the soak asks the replicas over HTTP: readiness (Redis back) and the slow subscribers they dropped. */
import { sleep } from '../helpers/wait.ts';
import type { Cluster, Incarnation } from './cluster.ts';

/** until every live replica's /readyz says `ready` again (its event bus connected to Redis) */
export async function untilFanoutBack(cluster: Cluster): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const states = await Promise.all(
      cluster.replicas.map(async (r) => {
        if (!r.live) return 'down';
        const response = await fetch(`${r.live.server.url}/readyz`).catch(() => undefined);
        return ((await response?.json().catch(() => undefined)) as { status?: string } | undefined)?.status;
      }),
    );
    if (states.every((s) => s === 'ready')) return;
    if (Date.now() > deadline) throw new Error(`replicas did not reconnect to Redis within 30 s: ${states.join(', ')}`);
    await sleep(100);
  }
}

/** each replica's count of subscribers it dropped as too slow (its /metrics) */
export async function droppedSubscribers(incarnations: readonly Incarnation[]): Promise<Map<string, number>> {
  return new Map(
    await Promise.all(
      incarnations.map(async (i) => {
        const text = await fetch(`${i.server.url}/metrics`)
          .then((r) => r.text())
          .catch(() => '');
        const n = /^vigil_event_bus_dropped_subscribers_total (\d+)/m.exec(text)?.[1];
        return [i.instanceId, Number(n ?? 0)] as const;
      }),
    ),
  );
}

/** the replicas' count of slow subscribers dropped, polled until each reaches `expected` or `ms` pass */
export async function untilStalledDropped(
  incarnations: readonly Incarnation[],
  expected: number,
  ms: number,
): Promise<Map<string, number>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const counts = await droppedSubscribers(incarnations);
    if ([...counts.values()].every((n) => n >= expected) || Date.now() > deadline) return counts;
    await sleep(250);
  }
}
