/**
 * The demo's report: summary.json (counts, statuses, attack success, timings, the alert),
 * constraint_violations.json (the adversarial window's, Model Monitor's shape) and index.html, one
 * self-contained page telling the story with the figure PNGs beside it (referenced relatively).
 */
import { escapeXml as escapeHtml } from '../../monitor/executions/class-chart.ts';
import type { StoryResult } from './story.ts';

export interface Summary {
  endpoint: string;
  server: string;
  source: string;
  images: number;
  samplingPercentage: number;
  method: string;
  clean: { sent: number; captured: number; classes: Record<string, number> };
  attack: {
    attacked: number;
    successful: number;
    successRate: number;
    medianL2: number | null;
    medianLinf: number | null;
  };
  adversarial: { sent: number; captured: number; predictedStop: number };
  executions: {
    clean: { id: string; status: string; message: string; recordCount: number };
    adversarial: {
      id: string;
      status: string;
      message: string;
      recordCount: number;
      violations: { check: string; description: string }[];
      classCounts: { classId: number; label: string; count: number; share: number }[];
    };
  };
  alert: { received: boolean; status: string | null; message: string | null; at: string | null };
  explained: {
    clean: { classId: number | null; label: string | null; backgroundFlagged: boolean } | null;
    adversarial: { classId: number | null; label: string | null; backgroundFlagged: boolean } | null;
  };
  figures: { file: string; url: string; title: string }[];
  timings: Record<string, number>;
  totalSeconds: number;
}

function median(values: number[]): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarise(
  story: StoryResult,
  context: { server: string; source: string; sampling: number; method: string; totalSeconds: number },
): Summary {
  const successful = story.attacks.filter((a) => a.success);
  const classCounts: Record<string, number> = {};
  for (const p of story.clean) classCounts[p.predictedClass] = (classCounts[p.predictedClass] ?? 0) + 1;
  const alert = story.alerts[0];
  const explainedOf = (e: StoryResult['explained']['clean']) =>
    e && { classId: e.classId, label: e.label, backgroundFlagged: e.background.flagged };
  const run = story.executions;
  return {
    endpoint: story.endpoint,
    server: context.server,
    source: context.source,
    images: story.clean.length,
    samplingPercentage: context.sampling,
    method: context.method,
    clean: {
      sent: story.clean.length,
      captured: story.clean.filter((p) => p.captureId).length,
      classes: classCounts,
    },
    attack: {
      attacked: story.attacks.length,
      successful: successful.length,
      successRate: story.attacks.length ? successful.length / story.attacks.length : 0,
      medianL2: median(successful.map((a) => a.l2)),
      medianLinf: median(successful.map((a) => a.linf)),
    },
    adversarial: {
      sent: story.adversarial.length,
      captured: story.adversarial.filter((p) => p.captureId).length,
      predictedStop: story.adversarial.filter((p) => p.predictedClass === 14).length,
    },
    executions: {
      clean: {
        id: run.clean.id,
        status: run.clean.status,
        message: run.clean.message,
        recordCount: run.clean.recordCount,
      },
      adversarial: {
        id: run.adversarial.id,
        status: run.adversarial.status,
        message: run.adversarial.message,
        recordCount: run.adversarial.recordCount,
        violations: run.adversarial.violations.map((v) => ({ check: v.check, description: v.description })),
        classCounts: run.adversarial.classes.filter((c) => c.count > 0),
      },
    },
    alert: {
      received: alert !== undefined,
      status: alert?.status ?? null,
      message: alert?.message ?? null,
      at: alert?.at ?? null,
    },
    explained: {
      clean: explainedOf(story.explained.clean),
      adversarial: explainedOf(story.explained.adversarial),
    },
    figures: story.figures.map((f) => ({ file: f.name, url: f.url, title: f.title })),
    timings: story.timings,
    totalSeconds: context.totalSeconds,
  };
}

const pct = (share: number) => `${(share * 100).toFixed(1)}%`;

/** index.html: the story in order, each figure as an <img> of its PNG beside the page */
export function reportHtml(summary: Summary): string {
  const h = escapeHtml;
  const figure = (file: string) => {
    const f = summary.figures.find((x) => x.file === file);
    return f
      ? `<figure><img src="${h(encodeURIComponent(f.file))}" alt="${h(f.title)}"><figcaption>${h(f.title)}</figcaption></figure>`
      : '';
  };
  const a = summary.attack;
  const adv = summary.executions.adversarial;
  const counts = adv.classCounts
    .sort((x, y) => y.count - x.count)
    .map((c) => `<tr><td>${c.classId}</td><td>${h(c.label)}</td><td>${c.count}</td><td>${pct(c.share)}</td></tr>`)
    .join('');
  const timings = Object.entries(summary.timings)
    .map(([step, s]) => `<tr><td>${h(step)}</td><td>${s.toFixed(1)} s</td></tr>`)
    .join('');
  const explained = (e: Summary['explained']['clean'], what: string) =>
    e
      ? `<li>${h(what)}: explained for class ${e.classId} (${h(e.label ?? '')})${e.backgroundFlagged ? ' — <strong>the background holds the saliency</strong>' : ''}</li>`
      : `<li>${h(what)}: not captured, not explained</li>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>vigil demo: ${h(summary.endpoint)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 1180px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; } figcaption { color: #555; font-size: .9em; }
table { border-collapse: collapse; margin: .5em 0; } td, th { border: 1px solid #ddd; padding: .2em .6em; text-align: left; }
.status { font-weight: bold; } .violation { color: #b52a1d; } code { background: #f5f5f5; padding: 0 .2em; }
</style>
</head>
<body>
<h1>Making a traffic-sign classifier fail, catching it, explaining it</h1>
<p>Endpoint <code>${h(summary.endpoint)}</code> on ${h(summary.server)}, ${summary.samplingPercentage}% of requests captured;
images from ${h(summary.source)}; ${summary.totalSeconds.toFixed(0)} s in all.</p>

<h2>1. Clean traffic</h2>
<p>${summary.clean.sent} images sent, ${summary.clean.captured} captured. A baseline was made of them and a monitoring
schedule with the class-share check (a class predicted more than 50% of the time is a violation).</p>
${figure('grid-clean.png')}
<p>First run: <span class="status">${h(summary.executions.clean.status)}</span> over ${summary.executions.clean.recordCount} captures — ${h(summary.executions.clean.message)}</p>
${figure('class-counts-clean.png')}

<h2>2. The attack</h2>
<p>Targeted ${h(summary.method.toLowerCase())} toward class 14 (Stop) on each distinct image: ${a.successful} of ${a.attacked}
reached Stop (${pct(a.successRate)}), counted only when the 8-bit PNG, decoded again, is classified as Stop.
Median perturbation of the successful ones: L2 ${a.medianL2?.toFixed(1) ?? '–'}, L∞ ${a.medianLinf?.toFixed(1) ?? '–'} (pixel levels).</p>
${figure('adversarial.png')}
${figure('grid-adversarial.png')}

<h2>3. The monitor catches it</h2>
<p>${summary.adversarial.sent} adversarial images sent, ${summary.adversarial.captured} captured, ${summary.adversarial.predictedStop} predicted as Stop.
Second run: <span class="status violation">${h(adv.status)}</span> over ${adv.recordCount} captures — ${h(adv.message)}</p>
<ul>${adv.violations.map((v) => `<li class="violation"><code>${h(v.check)}</code> ${h(v.description)}</li>`).join('')}</ul>
<p>The alert, as the <code>monitorAlerts</code> subscription received it:
${summary.alert.received ? `<strong>${h(summary.alert.status ?? '')}</strong> at ${h(summary.alert.at ?? '')}: ${h(summary.alert.message ?? '')}` : '<em>no alert received</em>'}.
The violations file: <a href="constraint_violations.json">constraint_violations.json</a>.</p>
<table><tr><th>class</th><th>sign</th><th>count</th><th>share</th></tr>${counts}</table>
${figure('class-counts-adversarial.png')}

<h2>4. The debugger explains it</h2>
<p>The debugger hook was turned on (<code>updateEndpoint</code>, collection <code>fullgrad</code>), one clean and one adversarial image sent and explained:</p>
<ul>${explained(summary.explained.clean, 'clean image')}${explained(summary.explained.adversarial, 'adversarial image')}</ul>
<p>The circle is the region the background check treats as the sign; a map whose strongest values lie outside it is flagged.</p>
${figure('saliency-clean.png')}
${figure('saliency-adversarial.png')}
${figure('comparison.png')}

<h2>Timings</h2>
<table>${timings}</table>
<p>Everything above is in <a href="summary.json">summary.json</a>.</p>
</body>
</html>
`;
}
