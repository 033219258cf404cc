/**
 * GraphiQL in a real browser, on a machine without internet: the page must render from the bundled
 * assets and run a query against the server (Yoga's default page fetches its scripts from a CDN and
 * never gets past "Loading…" here).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumMissing, launchChromium, SCREENSHOT_DIR } from '../helpers/browser.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const missing = chromiumMissing();

/** the text an element shows; the editor lays it out with non-breaking spaces, read as plain ones */
async function shownText(element: Locator): Promise<string> {
  return ((await element.textContent()) ?? '').replace(/\s+/g, ' ');
}
if (missing) console.warn(`skipping the GraphiQL browser test: ${missing}`);

describe.skipIf(missing)('GraphiQL from bundled assets', () => {
  let server: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    [server, browser] = await Promise.all([startTestServer(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('renders the editor offline and runs a query', async () => {
    const page = await browser.newPage();
    const offSite: string[] = [];
    // every request the page makes must stay on this server
    page.on('request', (request) => {
      const { protocol, host } = new URL(request.url());
      if ((protocol === 'http:' || protocol === 'https:') && host !== new URL(server.url).host)
        offSite.push(request.url());
    });
    const query = '{ serverInfo { models databaseProvider } }';
    await page.goto(`${server.graphqlUrl}?query=${encodeURIComponent(query)}`);
    await page.locator('.graphiql-execute-button').click({ timeout: 30_000 });
    const response = page.locator('.graphiql-response');
    await expect.poll(() => shownText(response), { timeout: 30_000 }).toContain('gtsrb-resnet18');
    const shown = await shownText(response);
    expect(shown).toContain(`"databaseProvider": "${server.app.database.provider}"`);
    expect(offSite).toEqual([]);
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'graphiql.png') });
  });

  it('with API keys: the page (which holds no data) loads, and a query runs only with the key in Headers', async () => {
    const key = 'read-key-0123456789abcdef';
    const guarded = await startTestServer({ env: { API_KEYS: `read:${key}` } });
    try {
      const page = await browser.newPage();
      await page.goto(`${guarded.graphqlUrl}?query=${encodeURIComponent('{ serverInfo { version } }')}`);
      const run = page.locator('.graphiql-execute-button');
      const response = page.locator('.graphiql-response');
      await run.click({ timeout: 30_000 });
      await expect.poll(() => shownText(response), { timeout: 30_000 }).toContain('UNAUTHENTICATED');

      await page.getByText('Headers', { exact: true }).click();
      await page.locator('.graphiql-editor-tool .monaco-editor').last().click();
      await page.keyboard.insertText(`{"authorization": "Bearer ${key}"}`);
      await run.click();
      await expect.poll(() => shownText(response), { timeout: 30_000 }).toContain('"version"');
      expect(await shownText(response)).not.toContain('UNAUTHENTICATED');
    } finally {
      await guarded.close();
    }
  });

  it('is not served in production (NODE_ENV=production)', async () => {
    const production = await startTestServer({ config: { development: false } });
    try {
      const answer = await fetch(production.graphqlUrl, { headers: { accept: 'text/html' } });
      expect(await answer.text()).not.toContain('graphiql');
    } finally {
      await production.close();
    }
  });
});
