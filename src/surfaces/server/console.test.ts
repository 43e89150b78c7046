/**
 * The web console end to end: a real server (temp data dir, ephemeral port) serving the built
 * console, driven in Debian's Chromium through playwright-core. Needs `npm run build` (which
 * builds dist/console) and /usr/bin/chromium; without Chromium the browser tests are skipped
 * loudly, except under CI where they fail.
 *
 * CONSOLE_SCREENSHOTS=1 writes the screenshots into docs/console/ (otherwise into a temp dir).
 */
// node:test's describe/test return promises that the runner itself tracks.
/* eslint-disable @typescript-eslint/no-floating-promises */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Engine } from '../../runtime/engine.js';
import { functionsFromMap } from '../../runtime/functions.js';
import { DEFAULT_CONSOLE_DIR } from './console.js';
import { startServer, type RunningServer } from './server.js';

const CHROMIUM = '/usr/bin/chromium';
const ROLE = 'arn:aws:iam::123456789012:role/console-test';
const haveChromium = existsSync(CHROMIUM);
const haveConsole = existsSync(join(DEFAULT_CONSOLE_DIR, 'index.html'));
if (!haveChromium) {
  const msg = `console.test: ${CHROMIUM} is missing, so the browser tests are SKIPPED (apt-get install -y chromium)`;
  if (process.env.CI) throw new Error(msg);
  process.stderr.write(`\n*** ${msg} ***\n\n`);
}
if (!haveConsole) throw new Error(`console.test: ${DEFAULT_CONSOLE_DIR} is not built (npm run build)`);

const SHOTS = process.env.CONSOLE_SCREENSHOTS
  ? fileURLToPath(new URL('../../../docs/console/', import.meta.url))
  : mkdtempSync(join(tmpdir(), 'stepwise-console-shots-'));
mkdirSync(SHOTS, { recursive: true });

const DEMO = {
  Comment: 'An order: validate, price every line in a Map, then decide.',
  StartAt: 'Validate',
  States: {
    Validate: { Type: 'Pass', Assign: { 'customer.$': '$.customer' }, Next: 'PriceLines' },
    PriceLines: {
      Type: 'Map',
      ItemsPath: '$.lines',
      ItemProcessor: {
        StartAt: 'Price',
        States: {
          Price: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: { FunctionName: 'price', 'Payload.$': '$' },
            OutputPath: '$.Payload',
            Retry: [{ ErrorEquals: ['Flaky'], MaxAttempts: 2, IntervalSeconds: 1 }],
            End: true,
          },
        },
      },
      ResultPath: '$.priced',
      Next: 'Decide',
    },
    Decide: {
      Type: 'Choice',
      Choices: [{ Variable: '$.express', BooleanEquals: true, Next: 'Express' }],
      Default: 'Standard',
    },
    Express: { Type: 'Pass', Result: 'express', Next: 'Done' },
    Standard: { Type: 'Pass', Result: 'standard', Next: 'Done' },
    Done: { Type: 'Succeed' },
  },
};

const APPROVAL = {
  StartAt: 'RequestApproval',
  States: {
    RequestApproval: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: 'notify', Payload: { 'order.$': '$', 'taskToken.$': '$$.Task.Token' } },
      Next: 'Ship',
    },
    Ship: { Type: 'Pass', End: true },
  },
};

let flaky = 0;
const functions = functionsFromMap({
  price: (line: unknown) => {
    const l = line as { sku: string; qty: number };
    if (l.sku === 'B' && flaky++ === 0) throw Object.assign(new Error('try again'), { name: 'Flaky' });
    return { sku: l.sku, total: l.qty * 3 };
  },
  notify: () => ({ sent: true }),
});

interface Running {
  server: RunningServer;
  engine: Engine;
  close(): Promise<void>;
}

const dirs: string[] = [];

async function serve(credentials?: { accessKeyId: string; secretAccessKey: string }): Promise<Running> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stepwise-console-'));
  dirs.push(dataDir);
  const engine = await Engine.open({ dataDir, waitScale: 0, functions });
  const server = await startServer({ engine, port: 0, credentials });
  return {
    server,
    engine,
    async close() {
      await server.close();
      await engine.close();
    },
  };
}

/** A raw AWS JSON call (unsigned: the main test server has no credentials). */
async function call<T>(url: string, op: string, body: object): Promise<T> {
  const r = await fetch(`${url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AWSStepFunctions.${op}` },
    body: JSON.stringify(body),
  });
  const json = (await r.json()) as T;
  if (!r.ok) throw new Error(`${op}: ${JSON.stringify(json)}`);
  return json;
}

let api: Running;
let browser: Browser | undefined;

before(async () => {
  api = await serve();
  if (haveChromium) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
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
  }
});

after(async () => {
  await browser?.close();
  await api?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (!process.env.CONSOLE_SCREENSHOTS) rmSync(SHOTS, { recursive: true, force: true });
});

async function newPage(colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
  const context = await browser!.newContext({ viewport: { width: 1440, height: 900 }, colorScheme });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('close', () => assert.deepEqual(errors, [], 'no uncaught errors in the page'));
  return page;
}

const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });

describe('console static serving', () => {
  test('index, client routes, hashed assets and the API side by side', async () => {
    const url = api.server.url;
    const index = await fetch(`${url}/`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    assert.match(index.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const html = await index.text();
    const script = /src="(\/assets\/app-[^"]+\.js)"/.exec(html)?.[1];
    const css = /href="(\/assets\/styles-[^"]+\.css)"/.exec(html)?.[1];
    assert.ok(script && css, 'index.html names the hashed bundle and stylesheet');

    const js = await fetch(`${url}${script}`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.match(js.headers.get('cache-control') ?? '', /immutable/);
    const style = await fetch(`${url}${css}`);
    assert.match(style.headers.get('content-type') ?? '', /^text\/css/);

    for (const route of [
      '/state-machines',
      '/state-machines/arn%3Aaws%3Astates%3Ax',
      '/executions/a/b',
      '/activities',
    ]) {
      const r = await fetch(`${url}${route}`);
      assert.equal(r.status, 200, route);
      assert.equal(await r.text(), html, route);
    }
    for (const bad of [
      '/assets/missing.js',
      '/assets/..%2Findex.html',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/nope',
    ]) {
      assert.equal((await fetch(`${url}${bad}`)).status, 404, bad);
    }
    // POST / is still the Step Functions API.
    const list = await call<{ stateMachines: unknown[] }>(url, 'ListStateMachines', {});
    assert.ok(Array.isArray(list.stateMachines));
    const health = await fetch(`${url}/health`);
    assert.equal(health.status, 200);
  });
});

describe('console in Chromium', { skip: !haveChromium && `${CHROMIUM} is missing` }, () => {
  test('list, start an execution, watch it on the graph, read its history', async () => {
    const url = api.server.url;
    const { stateMachineArn } = await call<{ stateMachineArn: string }>(url, 'CreateStateMachine', {
      name: 'order-pricing',
      definition: JSON.stringify(DEMO),
      roleArn: ROLE,
    });
    await call(url, 'CreateStateMachine', {
      name: 'approvals',
      definition: JSON.stringify(APPROVAL),
      roleArn: ROLE,
    });
    // Some history for the list's counts.
    await call(url, 'StartExecution', {
      stateMachineArn,
      input: JSON.stringify({ customer: 'c-1', express: false, lines: [] }),
    });
    await call(url, 'CreateActivity', { name: 'manual-review' });

    const page = await newPage();
    await page.goto(`${url}/`);
    const row = page.locator('tr[data-machine="order-pricing"]');
    await row.waitFor();
    await page.locator('tr[data-machine="approvals"]').waitFor();
    await row.locator('.count.s-succeeded').filter({ hasText: '1' }).waitFor();
    await shot(page, 'state-machines');

    await row.getByRole('link', { name: 'order-pricing' }).click();
    await page.getByRole('heading', { name: 'order-pricing' }).waitFor();
    await page.getByRole('tab', { name: 'Definition and graph' }).click();
    await page.locator('.node[data-state="PriceLines"]').waitFor();
    await page.locator('.j-key', { hasText: '"StartAt"' }).first().waitFor();
    await shot(page, 'state-machine-definition');
    await page.getByRole('button', { name: 'YAML' }).click();
    await page.getByText('StartAt: Validate').waitFor();

    await page.getByRole('button', { name: 'Start execution' }).click();
    const form = page.getByRole('form', { name: 'Start execution' });
    await form.locator('textarea[name=input]').fill('{"customer": "c-2", "lines": [');
    await form
      .getByText(/JSON|Unexpected|Expected/)
      .first()
      .waitFor();
    assert.equal(
      await form.getByRole('button', { name: 'Start' }).isDisabled(),
      true,
      'invalid JSON blocks Start',
    );
    await form.locator('textarea[name=input]').fill(
      JSON.stringify({
        customer: 'c-2',
        express: true,
        lines: [
          { sku: 'A', qty: 2 },
          { sku: 'B', qty: 1 },
        ],
      }),
    );
    await form.locator('input[name=name]').fill('from-the-console');
    await form.getByRole('button', { name: 'Start' }).click();

    await page.waitForURL(/\/executions\//);
    await page.getByRole('heading', { name: /from-the-console/ }).waitFor();
    await page.locator('.node[data-state="Done"][data-outcome="succeeded"]').waitFor();
    await page.locator('h1 .badge', { hasText: 'SUCCEEDED' }).waitFor();
    assert.equal(
      await page.locator('.node[data-state="Standard"]').getAttribute('data-outcome'),
      'notReached',
    );
    assert.equal(await page.locator('.node[data-state="Price"]').getAttribute('data-outcome'), 'succeeded');
    await page.locator('.node[data-state="Price"]').click();
    await page.locator('article[data-visit="Price"]').nth(1).waitFor();
    await page.getByText('2 attempts').waitFor();
    await shot(page, 'execution-graph');

    await page.getByRole('tab', { name: /History/ }).click();
    await page.locator('tr[data-event="ExecutionSucceeded"]').waitFor();
    await page.locator('tr[data-event="TaskFailed"]').waitFor();
    await page
      .getByRole('button', { name: /MapIterationStarted/ })
      .first()
      .click();
    await page.locator('tr.details .j-key', { hasText: '"index"' }).waitFor();
    await page.getByLabel('Type').selectOption('TaskScheduled');
    assert.equal(await page.locator('tbody tr[data-event]').count(), 3, 'two lines, one retry');
    await page.getByLabel('Type').selectOption('');
    await page.getByLabel('Iteration / branch').first().selectOption('PriceLines[1]');
    await page.locator('tr[data-event="TaskFailed"]').getByRole('button').click();
    await page.locator('tr.details .j-key', { hasText: '"error"' }).waitFor();
    await shot(page, 'execution-history');

    await page.getByRole('tab', { name: 'Timeline' }).click();
    await page.locator('.gantt-bar').first().waitFor();
    await page.getByRole('tab', { name: 'Input and output' }).click();
    await page.getByLabel('Execution output').getByText('"express"').waitFor();

    await page.goto(`${url}/activities`);
    await page.getByRole('button', { name: 'manual-review' }).click();
    await page
      .locator('dl.props')
      .getByText(/activity:manual-review/)
      .waitFor();
    await page.close();
  });

  test('approve and reject a callback task', async () => {
    const url = api.server.url;
    const { stateMachines } = await call<{ stateMachines: { name: string; stateMachineArn: string }[] }>(
      url,
      'ListStateMachines',
      {},
    );
    const arn = stateMachines.find((m) => m.name === 'approvals')!.stateMachineArn;
    const page = await newPage('dark');

    const approve = await call<{ executionArn: string }>(url, 'StartExecution', {
      stateMachineArn: arn,
      name: 'order-approve',
      input: JSON.stringify({ order: 42 }),
    });
    await page.goto(`${url}/executions/${encodeURIComponent(approve.executionArn)}`);
    const panel = page.locator('[data-approval="RequestApproval"]');
    await panel.waitFor();
    await page.locator('.node[data-state="RequestApproval"][data-outcome="running"]').waitFor();
    await shot(page, 'approval');
    await panel.locator('textarea').fill('{"approvedBy": "console"}');
    await panel.getByRole('button', { name: 'Approve' }).click();
    await page.locator('h1 .badge', { hasText: 'SUCCEEDED' }).waitFor();
    await page.locator('.node[data-state="Ship"][data-outcome="succeeded"]').waitFor();
    assert.equal(await panel.count(), 0);
    const done = await call<{ output: string }>(url, 'DescribeExecution', {
      executionArn: approve.executionArn,
    });
    assert.deepEqual(JSON.parse(done.output), { approvedBy: 'console' });

    const reject = await call<{ executionArn: string }>(url, 'StartExecution', {
      stateMachineArn: arn,
      name: 'order-reject',
    });
    await page.goto(`${url}/executions/${encodeURIComponent(reject.executionArn)}`);
    await panel.waitFor();
    await panel.getByLabel('Error').fill('Rejected');
    await panel.getByLabel('Cause').fill('Not in stock');
    await panel.getByRole('button', { name: 'Reject' }).click();
    await page.locator('h1 .badge', { hasText: 'FAILED' }).waitFor();
    await page.locator('.node[data-state="RequestApproval"][data-outcome="failed"]').waitFor();
    await page.getByText('Not in stock').first().waitFor();
    await page.close();
  });

  test('signs in and signs requests when the server checks SigV4', async () => {
    const secured = await serve({ accessKeyId: 'AKIDCONSOLE', secretAccessKey: 'console-secret' });
    try {
      const page = await newPage();
      await page.goto(`${secured.server.url}/`);
      const form = page.getByRole('form', { name: 'Sign in' });
      await form.waitFor();
      await form.getByLabel('Access key ID').fill('AKIDCONSOLE');
      await form.getByLabel('Secret access key').fill('wrong');
      await form.getByRole('button', { name: 'Sign in' }).click();
      await form.getByText(/InvalidSignatureException/).waitFor();
      await form.getByLabel('Secret access key').fill('console-secret');
      await form.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'State machines' }).waitFor();
      await page.getByText('No state machines yet').waitFor();
      // The key is kept for the tab: a reload stays signed in.
      await page.reload();
      await page.getByRole('heading', { name: 'State machines' }).waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await form.waitFor();
      await page.close();
    } finally {
      await secured.close();
    }
  });
});
