/**
 * Which replica ran each execution, read from the replicas' logs: the line "monitoring execution
 * finished" (written just before the alert is published) names the schedule and the window. The
 * database does not keep a finished execution's runner; the alert checks need it to tell an alert
 * delivered locally (always owed) from one that crossed Redis (lost during an outage, by design).
 */

/** `schedule|windowEnd (ISO)` → the instance id whose log reports that execution finished */
export function publishers(logs: readonly { instanceId: string; log: string }[]): Map<string, string> {
  const byExecution = new Map<string, string>();
  const marker = ' monitoring execution finished ';
  for (const { instanceId, log } of logs) {
    for (const line of log.split('\n')) {
      const at = line.indexOf(marker);
      if (at < 0) continue;
      try {
        const fields = JSON.parse(line.slice(at + marker.length)) as { schedule?: string; window?: string[] };
        const windowEnd = fields.window?.[1];
        if (fields.schedule && windowEnd) byExecution.set(`${fields.schedule}|${windowEnd}`, instanceId);
      } catch {
        // a line cut short by a kill: that execution stays unattributed
      }
    }
  }
  return byExecution;
}
