/** The Prometheus text exposition format (version 0.0.4): samples collected by family, then printed. */

/** Collects samples by family (a family's samples must be contiguous) and prints them. */
export class Exposition {
  readonly #families = new Map<string, { help: string; type: string; samples: string[] }>();

  add(
    name: string,
    help: string,
    labels: Record<string, string>,
    value: number,
    type: 'gauge' | 'counter' = 'gauge',
  ): void {
    let family = this.#families.get(name);
    if (!family) this.#families.set(name, (family = { help, type, samples: [] }));
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    family.samples.push(`${name}${pairs.length ? `{${pairs.join(',')}}` : ''} ${formatValue(value)}`);
  }

  text(): string {
    const lines: string[] = [];
    for (const [name, f] of this.#families) {
      lines.push(
        `# HELP ${name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`,
        `# TYPE ${name} ${f.type}`,
        ...f.samples,
      );
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
