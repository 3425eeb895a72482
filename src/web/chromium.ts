// Headless Chromium for the browser tests, the bench and the docs screenshot: the system's browser
// (Debian's /usr/bin/chromium, or $EARMARK_CHROMIUM) driven by playwright-core, which never downloads
// one. The flags keep it off the network (no background requests, no component updates, no QUIC) and
// run it as root; playwright gives every launch a new empty --user-data-dir.
import { existsSync } from 'node:fs';
import { EarmarkError } from '../errors.js';
import type { Browser, Frame, Page } from 'playwright-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The Chromium executable, or null when none is installed. */
export function findChromium(): string | null {
  const env = process.env['EARMARK_CHROMIUM'];
  if (env) return existsSync(env) ? env : null;
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--metrics-recording-only',
  '--autoplay-policy=no-user-gesture-required',
  // any host but loopback fails to resolve: a page that needs the network breaks instead of reaching it
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
];

/**
 * Flags that make a WAV file the microphone (the fake device loops it) and, unless `acceptPrompts` is
 * false, accept every permission prompt (otherwise grant per origin: BrowserContext.grantPermissions).
 */
export function fakeMicrophoneFlags(wav: string, opts: { acceptPrompts?: boolean } = {}): string[] {
  const flags = ['--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`];
  return opts.acceptPrompts === false ? flags : [...flags, '--use-fake-ui-for-media-stream'];
}

/**
 * Launch headless Chromium with CHROMIUM_FLAGS and `extra`.
 * @example const browser = await launchChromium(fakeMicrophoneFlags('/tmp/in.wav'));
 */
export async function launchChromium(extra: string[] = []): Promise<Browser> {
  const executablePath = findChromium();
  if (executablePath === null) {
    throw new EarmarkError(
      'EARMARK_IO',
      `no Chromium found (looked for $EARMARK_CHROMIUM, ${CANDIDATES.join(', ')}); ` +
        'install it with `apt-get install chromium` (scripts/apt-packages.txt lists it)',
    );
  }
  let chromium: typeof import('playwright-core').chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch (e) {
    throw new EarmarkError(
      'EARMARK_IO',
      `playwright-core is missing (${(e as Error).message}); run \`npm ci\` (it is a devDependency)`,
    );
  }
  return chromium.launch({ executablePath, headless: true, args: [...CHROMIUM_FLAGS, ...extra], timeout: 30_000 });
}

/**
 * Open the demo app (WebDemoServer.appUrl) in `page`, wait for the sensor frame's consent form, pick
 * `modelId` and click the grant button inside the frame, as a user would (`beforeGrant` sees the form
 * first). Returns the sensor frame.
 * @example const frame = await grantInDemo(page, server.appUrl, server.sensorUrl, 'm0');
 */
export async function grantInDemo(
  page: Page,
  appUrl: string,
  sensorUrl: string,
  modelId?: string,
  beforeGrant?: (frame: Frame) => Promise<void>,
): Promise<Frame> {
  await page.goto(appUrl);
  const origin = new URL(sensorUrl).origin;
  let frame = page.frames().find((f) => f.url().startsWith(origin));
  for (let i = 0; frame === undefined && i < 200; i++) {
    await page.waitForTimeout(50);
    frame = page.frames().find((f) => f.url().startsWith(origin));
  }
  if (frame === undefined)
    throw new EarmarkError('EARMARK_IO', `the sensor frame from ${origin} did not load in ${appUrl}`);
  await frame.waitForSelector('#grant:not([disabled])', { timeout: 20_000 });
  if (modelId !== undefined) await frame.selectOption('#model', modelId);
  await beforeGrant?.(frame);
  await frame.click('#grant');
  return frame;
}
