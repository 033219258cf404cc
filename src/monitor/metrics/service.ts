/**
 * The metrics executions emit, as a time series per schedule (for charts) and, for /metrics, the
 * Prometheus families of each schedule's latest completed execution (for scraping), with a few process
 * gauges.
 *
 * Names: `record_count`, `class_count_<class>`, `max_class_share`, `non_null_share`,
 * `low_confidence_share`, `confidence_mean`, `violation_count`, `insufficient_data` (1 when the window
 * held fewer captures than the minimum sample size), and with a baseline `drift_l_infinity`,
 * `drift_chi_squared_p_value`, `drift_confidence_shift`; with the model-quality check
 * `ground_truth_count` and, once there are labels, `accuracy`, `macro_f1`, `precision_<class>`,
 * `recall_<class>`. A metric the window could not measure (an empty or insufficient window, outputs not
 * captured, no labels) is absent, not 0. In Prometheus each is `vigil_monitor_<name>{schedule,endpoint}`;
 * class counts, precision and recall are a family each, with `class` and `label`;
 * `vigil_monitor_schedule_paused` says which schedules are paused. Ad-hoc executions are in no series.
 */
import { NotFoundError } from '../../errors.ts';
import type { ModelCatalog } from '../../models/catalog.ts';
import type { Exposition, MetricSource } from './prometheus.ts';
import type { MetricStore } from './store.ts';
import type { MetricPoint } from './types.ts';

const MAX_POINTS = 10_000;
const PROCESS_START = Date.now() / 1000 - process.uptime();

export interface MetricsDeps {
  metrics: MetricStore;
  /** the models, whose labels name the classes */
  models: Pick<ModelCatalog, 'label'>;
}

/** the per-class metrics, each a family with `class` and `label` */
const PER_CLASS_HELP = {
  class_count: 'Predictions of a class in the latest window',
  precision: "Of the latest model-quality window's labelled captures predicted as a class, the share that are it",
  recall: "Of the latest model-quality window's labelled captures of a class, the share predicted as it",
} as const;

export class MetricService implements MetricSource {
  constructor(private readonly deps: MetricsDeps) {}

  /** One metric of a schedule over [from, to), oldest first (at most 10,000 points: the newest). */
  async series(
    scheduleName: string,
    name: string,
    range: { from?: Date | null; to?: Date | null } = {},
  ): Promise<MetricPoint[]> {
    const points = await this.deps.metrics.series(scheduleName, name, range, MAX_POINTS);
    if (!points) throw new NotFoundError('MonitoringSchedule', scheduleName);
    return points;
  }

  /** the latest execution's metrics per schedule, and the process gauges */
  async collect(out: Exposition): Promise<void> {
    for (const { schedule, endpoint, pausedAt, latest } of await this.deps.metrics.latestBySchedule()) {
      const base = { schedule, endpoint: endpoint.name };
      out.add(
        'vigil_monitor_schedule_paused',
        'Whether the schedule is paused (1) or runs (0)',
        base,
        pausedAt ? 1 : 0,
      );
      if (!latest) continue;
      out.add(
        'vigil_monitor_last_execution_window_end_seconds',
        'End of the latest completed execution window (Unix time)',
        base,
        latest.windowEnd.getTime() / 1000,
      );
      for (const m of latest.metrics) {
        const cls = /^(class_count|precision|recall)_(\d+)$/.exec(m.name);
        if (cls) {
          const classId = Number(cls[2]);
          out.add(
            `vigil_monitor_${cls[1]}`,
            PER_CLASS_HELP[cls[1] as keyof typeof PER_CLASS_HELP],
            { ...base, class: String(classId), label: this.deps.models.label(endpoint.model, classId) },
            m.value,
          );
        } else {
          out.add(
            `vigil_monitor_${m.name.replace(/[^a-zA-Z0-9_]/g, '_')}`,
            `Model Monitor metric ${m.name} of the latest window`,
            base,
            m.value,
          );
        }
      }
    }
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    out.add('process_resident_memory_bytes', 'Resident memory size in bytes', {}, memory.rss);
    out.add('nodejs_heap_used_bytes', 'V8 heap used in bytes', {}, memory.heapUsed);
    out.add(
      'process_cpu_seconds_total',
      'User and system CPU time spent in seconds',
      {},
      (cpu.user + cpu.system) / 1e6,
      'counter',
    );
    out.add(
      'process_start_time_seconds',
      'Start time of the process since the Unix epoch in seconds',
      {},
      Math.round(PROCESS_START),
    );
  }
}
