/**
 * Alert delivery on /metrics, per channel: deliveries waiting, deliveries given up, and how long the
 * oldest waiting one has waited (a receiver down shows here before anyone misses an alert).
 */
import type { Exposition, MetricSource } from '../monitor/metrics/prometheus.ts';
import type { AlertStore } from './store.ts';

export function alertMetrics(store: Pick<AlertStore, 'backlog'>, clock: () => Date = () => new Date()): MetricSource {
  return {
    async collect(out: Exposition) {
      const now = clock().getTime();
      for (const { channel, pending, failed, oldestPending } of await store.backlog()) {
        const labels = { channel };
        out.add('vigil_alert_deliveries_pending', 'Alert deliveries queued or waiting to be retried', labels, pending);
        out.add(
          'vigil_alert_deliveries_failed',
          'Alert deliveries given up (kept with their attempts)',
          labels,
          failed,
        );
        out.add(
          'vigil_alert_oldest_pending_seconds',
          'Age of the oldest alert delivery still waiting (0 when none)',
          labels,
          oldestPending ? Math.max(0, (now - oldestPending.getTime()) / 1000) : 0,
        );
      }
    },
  };
}
