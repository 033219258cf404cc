/**
 * What a delivery sends: one JSON body, fixed when the delivery is queued (every attempt sends the same
 * bytes), signed at send time with the channel's secret. WEBHOOK: vigil's own shape, the alert as the
 * `monitorAlerts` subscription carries it. SLACK: Slack's message format (`text` for notifications and
 * `blocks` for the message), which incoming webhooks accept as is.
 */
import { createHmac } from 'node:crypto';
import type { MonitorAlert } from '../monitor/alerts/types.ts';
import type { ChannelKind } from './types.ts';

export const SIGNATURE_HEADER = 'X-Vigil-Signature';
export const DELIVERY_HEADER = 'X-Vigil-Delivery';
export const ATTEMPT_HEADER = 'X-Vigil-Attempt';

/** Slack allows 50 blocks and 3000 characters a section: a long list is cut, with a count of the rest */
const SLACK_VIOLATIONS = 10;
const SLACK_SECTION_CHARS = 2900;

/** `sha256=<hex HMAC-SHA256 of the body's bytes>` */
export function sign(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

export function alertBody(kind: ChannelKind, deliveryId: string, alert: MonitorAlert): string {
  if (kind === 'WEBHOOK') return JSON.stringify({ type: 'monitor.alert', delivery: deliveryId, alert });
  const headline = `Monitoring alert: ${alert.schedule} on ${alert.endpoint} — ${alert.violations.length} violation${alert.violations.length === 1 ? '' : 's'}`;
  const lines = alert.violations.slice(0, SLACK_VIOLATIONS).map((v) => `• ${escapeSlack(v.description)}`);
  const more = alert.violations.length - SLACK_VIOLATIONS;
  if (more > 0) lines.push(`…and ${more} more`);
  return JSON.stringify({
    text: headline,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: headline.slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n').slice(0, SLACK_SECTION_CHARS) || '—' } },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: escapeSlack(
              `window ${alert.windowStart} – ${alert.windowEnd} · ${alert.recordCount} captures · execution ${alert.executionId}`,
            ),
          },
        ],
      },
    ],
  });
}

export function testBody(kind: ChannelKind, deliveryId: string, channel: string, at: Date): string {
  const text = `vigil test message for alert channel ${channel}`;
  if (kind === 'WEBHOOK')
    return JSON.stringify({ type: 'test', delivery: deliveryId, channel, message: text, at: at.toISOString() });
  return JSON.stringify({ text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: escapeSlack(text) } }] });
}

/** Slack's mrkdwn control characters (its documented escapes) */
function escapeSlack(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
