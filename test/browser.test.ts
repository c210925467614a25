// In a real browser (Debian's headless Chromium driven by playwright-core): the dashboard of
// `prefdyn serve` lists a fixture run, draws its points, shows an appended metrics line without a
// reload, logs no console error and answers traversal attempts with 404; and `prefdyn report`'s
// report.html opened from disk draws every figure with all network requests blocked.
// Where Chromium is missing the tests are skipped with the reason, except in CI (CI=true) on a
// machine with apt-get, where .ci/run installs it and a missing browser is a failure.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startServer, type RunningServer } from '../src/server/server.js';
import { rootOf } from '../src/server/safe-path.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';
import { appendStep, serveFixture, TRAVERSALS, type ServeFixture } from './helpers/serve-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const hasAptGet = ['/usr/bin/apt-get', '/bin/apt-get'].some((p) => fs.existsSync(p));
const skip = fs.existsSync(CHROMIUM) ? false : `${CHROMIUM} not found (Debian: apt-get install -y chromium)`;
if (skip) {
  process.stdout.write(`# browser tests skipped: ${skip}\n`);
  if (process.env.CI === 'true' && hasAptGet)
    test('CI with apt-get must run the browser tests', () => assert.fail(`${skip}; .ci/run installs it`));
}

let context: BrowserContext;
let f: ServeFixture;
let server: RunningServer;

before(async () => {
  if (skip) return;
  context = await chromium.launchPersistentContext(tempDir('prefdyn-chromium-'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  f = await serveFixture();
  server = await startServer({ roots: [rootOf(f.root)], host: '127.0.0.1', port: 0 });
});
after(async () => {
  await context?.close();
  await server?.close();
});

/** Console errors and uncaught exceptions of a page. */
function errorsOf(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => (m.type() === 'error' ? errors.push(m.text()) : undefined));
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

/** Vertex counts of the line marks inside figure `name` of the page. */
const vertexCounts = (page: Page, name: string) =>
  page.$$eval(`figure[data-name="${name}"] path[aria-roledescription="line mark"]`, (paths) =>
    paths.map((p) => (p.getAttribute('d') ?? '').split(/[ML]/).length - 1),
  );

test(
  'dashboard: lists the run, draws its points, shows an appended line live, no console error',
  { skip },
  async (t) => {
    const page = await context.newPage();
    const errors = errorsOf(page);
    await page.goto(server.url);
    await page.waitForSelector('li[data-id="0/runs/lin"] input[type=checkbox]:checked');
    assert.equal(await page.textContent('li[data-id="0/experiments/quick"] a'), 'REPORT.md');
    await page.waitForSelector('figure[data-name="trl"] svg');
    // the fixture run logged steps 0..2: every line has 3 vertices (8 curves, 4 TRL panels)
    assert.deepEqual(await vertexCounts(page, 'curves'), Array(8).fill(3));
    assert.deepEqual(await vertexCounts(page, 'trl'), Array(4).fill(3));
    const t0 = Date.now();
    appendStep(f, 3);
    await page.waitForFunction(() => document.getElementById('figures')?.dataset.steps === '{"0/runs/lin":4}', null, {
      timeout: 20000,
    });
    t.diagnostic(`appended metrics line drawn in the page after ${Date.now() - t0} ms (no reload)`);
    assert.deepEqual(await vertexCounts(page, 'trl'), Array(4).fill(4));
    assert.deepEqual(errors, []);
    // traversal from inside the page (the browser logs each 404 it gets: those come after the check above)
    for (const p of TRAVERSALS) {
      const status = await page.evaluate((url) => fetch(url).then((r) => r.status), p);
      assert.equal(status, 404, p);
    }
    await page.close();
  },
);

test('report.html from disk renders every figure with the network blocked', { skip }, async () => {
  const out = path.join(tempDir('prefdyn-report-'), 'report');
  const r = runCli(['report', f.run, '--out', out, '--figures', 'none']);
  assert.equal(r.code, 0, r.stderr);
  const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
  const expected = (html.match(/<figure/g) ?? []).length;
  assert.ok(expected > 0, 'the report has figures');
  const page = await context.newPage();
  const errors = errorsOf(page);
  const requests: string[] = [];
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    requests.push(url);
    return route.abort();
  });
  await page.goto(pathToFileURL(path.join(out, 'report.html')).href);
  const svgs = await page.$$eval('figure', (figs) => figs.filter((fig) => fig.querySelector('svg, canvas')).length);
  assert.equal(svgs, expected, 'every figure holds an SVG or canvas');
  assert.deepEqual(requests, []);
  assert.deepEqual(errors, []);
  await page.close();
});
