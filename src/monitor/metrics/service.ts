/**
 * The metrics executions emit, as a time series per schedule (for charts) and as the Prometheus text
 * exposition of each schedule's latest completed execution (for scraping), with a few process gauges.
 *
 * Names: `record_count`, `class_count_<class>`, `max_class_share`, `non_null_share`,
 * `low_confidence_share`, `confidence_mean`, `violation_count`, and with a baseline
 * `drift_l_infinity`, `drift_chi_squared_p_value`, `drift_confidence_shift`. In Prometheus each is
 * `vigil_monitor_<name>{schedule,endpoint}`; class counts are one family with `class` and `label`.
 */
import type { Db } from '../../db/prisma.ts';
import { NotFoundError } from '../../errors.ts';
import type { ModelCatalog } from '../../models/catalog.ts';
import type { MetricPoint } from '../baselines/types.ts';

const MAX_POINTS = 10_000;
const PROCESS_START = Date.now() / 1000 - process.uptime();

export interface MetricsDeps {
  prisma: Db;
  /** the models, whose labels name the classes */
  models: Pick<ModelCatalog, 'label'>;
}

export class MetricService {
  constructor(private readonly deps: MetricsDeps) {}

  /** One metric of a schedule over [from, to), oldest first (at most 10,000 points: the newest). */
  async series(scheduleName: string, name: string, range: { from?: Date | null; to?: Date | null } = {}): Promise<MetricPoint[]> {
    const schedule = await this.deps.prisma.monitoringSchedule.findUnique({ where: { name: scheduleName }, select: { id: true } });
    if (!schedule) throw new NotFoundError('MonitoringSchedule', scheduleName);
    const rows = await this.deps.prisma.metric.findMany({
      where: {
        scheduleId: schedule.id,
        name,
        timestamp: { ...(range.from ? { gte: range.from } : {}), ...(range.to ? { lt: range.to } : {}) },
      },
      orderBy: { timestamp: 'desc' },
      take: MAX_POINTS,
    });
    return rows.reverse().map((r) => ({ name: r.name, value: r.value, timestamp: r.timestamp, executionId: r.executionId }));
  }

  /** the Prometheus text exposition format (version 0.0.4) */
  async prometheus(): Promise<string> {
    const schedules = await this.deps.prisma.monitoringSchedule.findMany({
      orderBy: { name: 'asc' },
      select: {
        name: true,
        endpoint: { select: { name: true, model: true } },
        executions: {
          where: { status: { in: ['Completed', 'CompletedWithViolations'] } },
          orderBy: { windowEnd: 'desc' },
          take: 1,
          select: { windowEnd: true, metrics: { select: { name: true, value: true }, orderBy: { name: 'asc' } } },
        },
      },
    });
    const out = new Exposition();
    for (const s of schedules) {
      const last = s.executions[0];
      if (!last) continue;
      const base = { schedule: s.name, endpoint: s.endpoint.name };
      out.add('vigil_monitor_last_execution_window_end_seconds', 'End of the latest completed execution window (Unix time)', base, last.windowEnd.getTime() / 1000);
      for (const m of last.metrics) {
        const cls = /^class_count_(\d+)$/.exec(m.name);
        if (cls) {
          const classId = Number(cls[1]);
          out.add('vigil_monitor_class_count', 'Predictions of a class in the latest window', { ...base, class: String(classId), label: this.deps.models.label(s.endpoint.model, classId) }, m.value);
        } else {
          out.add(`vigil_monitor_${m.name.replace(/[^a-zA-Z0-9_]/g, '_')}`, `Model Monitor metric ${m.name} of the latest window`, base, m.value);
        }
      }
    }
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    out.add('process_resident_memory_bytes', 'Resident memory size in bytes', {}, memory.rss);
    out.add('nodejs_heap_used_bytes', 'V8 heap used in bytes', {}, memory.heapUsed);
    out.add('process_cpu_seconds_total', 'User and system CPU time spent in seconds', {}, (cpu.user + cpu.system) / 1e6, 'counter');
    out.add('process_start_time_seconds', 'Start time of the process since the Unix epoch in seconds', {}, Math.round(PROCESS_START));
    return out.text();
  }
}

/** Collects samples by family (a family's samples must be contiguous) and prints them. */
class Exposition {
  readonly #families = new Map<string, { help: string; type: string; samples: string[] }>();

  add(name: string, help: string, labels: Record<string, string>, value: number, type: 'gauge' | 'counter' = 'gauge'): void {
    let family = this.#families.get(name);
    if (!family) this.#families.set(name, (family = { help, type, samples: [] }));
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    family.samples.push(`${name}${pairs.length ? `{${pairs.join(',')}}` : ''} ${formatValue(value)}`);
  }

  text(): string {
    const lines: string[] = [];
    for (const [name, f] of this.#families) {
      lines.push(`# HELP ${name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${f.type}`, ...f.samples);
    }
    return `${lines.join('\n')}\n`;
  }
}

export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
