/**
 * Headless Chromium for the browser tests: Debian's package (`.ci/run` installs it), driven by
 * playwright-core, which never downloads a browser of its own. Without the background-networking flags
 * Chromium keeps trying Google's hosts, which a machine without internet refuses.
 */
import fs from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** why the browser tests cannot run here, or '' when they can (VIGIL_REQUIRE_SERVICES=1: an error) */
export function chromiumMissing(): string {
  if (fs.existsSync(CHROMIUM_PATH)) return '';
  const why = `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`;
  if (process.env.VIGIL_REQUIRE_SERVICES === '1') throw new Error(`${why}, and VIGIL_REQUIRE_SERVICES=1`);
  return why;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** where the browser tests write their screenshots (an artefact CI keeps; ignored by git) */
export const SCREENSHOT_DIR = 'test/out/screenshots';
