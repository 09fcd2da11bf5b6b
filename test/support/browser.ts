import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ImpactValue, RunOptions } from 'axe-core';
import { ROOT } from './processes';

/**
 * The web page's end-to-end tests: Debian's chromium (installed by .ci/run, never by a test)
 * driven by playwright-core, against a fresh build of web/ served by the API under test.
 */

export const CHROMIUM = process.env.TEST_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ROOT, 'test-results', 'screenshots');

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The web tests need Chromium at ${CHROMIUM} and it is missing. Install Debian's package ` +
        '(apt-get install -y chromium, as .ci/run does) or point TEST_CHROMIUM at a Chromium binary.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
}

export interface WebBuild {
  readonly dir: string;
  /** Bytes of each file the page loads, raw and gzip, as web/build.mjs reports them. */
  readonly sizes: { readonly total: { readonly raw: number; readonly gzip: number }; readonly files: Record<string, { raw: number; gzip: number }> };
  remove(): Promise<void>;
}

/** Builds web/ into a directory of this test file's own, so parallel files never share one. */
export async function buildWebPage(): Promise<WebBuild> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mymonit-web-'));
  const { stdout } = await promisify(execFile)(process.execPath, [path.join(ROOT, 'web', 'build.mjs'), '--outdir', dir], { cwd: ROOT });
  const last = stdout.trim().split('\n').pop() ?? '{}';
  return { dir, sizes: JSON.parse(last) as WebBuild['sizes'], remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface TestPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Console errors, failed requests and uncaught exceptions seen by the page. */
  readonly problems: string[];
}

/** A page in a fresh context (own cookies, storage and HTTP cache: a cold start). */
export async function openPage(browser: Browser, viewport = { width: 1366, height: 900 }, locale = 'en-GB'): Promise<TestPage> {
  const context = await browser.newContext({ viewport, acceptDownloads: true, locale, timezoneId: 'Europe/Zurich' });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    // Chromium logs every 4xx response as an error; the page handles those (and tests check what it shows).
    if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return { context, page, problems };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Signs in through the page's form and waits for the signed-in navigation. */
/**
 * The top edge (px, rounded) of the control each label names, as a set: one entry means they all
 * stand level in their row.
 */
export async function controlTops(page: Page, labels: readonly string[]): Promise<Set<number>> {
  return new Set(await Promise.all(labels.map(async (label) => Math.round((await page.getByLabel(label, { exact: true }).boundingBox())?.y ?? NaN))));
}

export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** Milliseconds from navigation start to a performance mark the page sets, once it exists. */
export async function markTime(page: Page, mark: string, timeoutMs = 10_000): Promise<number> {
  // A function, not a string: the page's CSP forbids eval, which string predicates need.
  const handle = await page.waitForFunction(
    (name) => {
      const m = performance.getEntriesByName(name)[0];
      return m ? m.startTime : false;
    },
    mark,
    { timeout: timeoutMs },
  );
  return Number(await handle.jsonValue());
}

/** The WCAG 2.0 and 2.1 A and AA rules: what the issue's "accessible" means here. */
const AXE_OPTIONS: RunOptions = {
  runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  resultTypes: ['violations'],
};

interface A11yViolation {
  readonly id: string;
  readonly impact: ImpactValue | null | undefined;
  readonly help: string;
  readonly targets: string[];
  readonly count: number;
  readonly summary: string;
}

let axeSource: Promise<string> | undefined;

/**
 * Runs axe-core over the whole document as it is now (an open modal dialog included) and fails
 * with one line per broken rule: its id, impact, help, the first few elements and why the first
 * one fails. axe-core is evaluated through the DevTools protocol, which the page's CSP does not
 * govern (an inline script tag would be refused), and never enters the web bundle.
 */
export async function expectNoA11yViolations(page: Page, where: string): Promise<void> {
  axeSource ??= readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(await axeSource);
  const violations = await page.evaluate<A11yViolation[]>(
    `axe.run(document, ${JSON.stringify(AXE_OPTIONS)}).then((r) =>
      r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        targets: v.nodes.slice(0, 4).map((n) => n.target.join(' ')),
        count: v.nodes.length,
        summary: (v.nodes[0]?.failureSummary ?? '').replace(/\\s+/g, ' '),
      })))`,
  );
  if (violations.length === 0) return;
  const lines = violations.map(
    (v) => `- ${v.id} (${v.impact ?? 'unknown'}): ${v.help} — ${v.targets.join(', ')}${v.count > v.targets.length ? ` (+${v.count - v.targets.length} more)` : ''}\n    ${v.summary}`,
  );
  throw new Error(`${where}: ${violations.length} accessibility rule(s) broken (axe-core, WCAG 2.1 A/AA):\n${lines.join('\n')}`);
}

export interface FocusedElement {
  readonly tag: string;
  readonly text: string;
  readonly focusVisible: boolean;
  /** The focus indicator: the computed outline ("none" when there is none) and box-shadow. */
  readonly outline: string;
  readonly boxShadow: string;
}

/** What has keyboard focus now, and how the page draws its focus indicator. */
export async function focusedElement(page: Page): Promise<FocusedElement> {
  return page.evaluate<FocusedElement>(`(() => {
    const el = document.activeElement;
    const s = getComputedStyle(el);
    return {
      tag: el.tagName.toLowerCase(),
      text: (el.textContent ?? '').trim(),
      focusVisible: el.matches(':focus-visible'),
      outline: s.outlineStyle === 'none' || parseFloat(s.outlineWidth) === 0 ? 'none' : s.outlineStyle + ' ' + s.outlineWidth + ' ' + s.outlineColor,
      boxShadow: s.boxShadow,
    };
  })()`);
}
