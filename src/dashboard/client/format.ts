/** How numbers and times read on screen. */
export const percent = (share: number, digits = 1) => `${(share * 100).toFixed(digits)} %`;

export function time(iso: string): string {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

/** the colour of an execution status: text and background pass WCAG AA contrast */
export function statusClass(status: string): string {
  if (status === 'Completed') return 'status-ok';
  if (status === 'CompletedWithViolations') return 'status-violations';
  if (status === 'Failed') return 'status-failed';
  return 'status-running';
}
