// The console as a person uses it: Debian's Chromium, driven by playwright-core, against the real
// `lambdaport` binary on a fresh database. Run by scripts/test, which builds the binary and the site
// and sets LAMBDAPORT_BIN, LAMBDAPORT_SITE_ROOT and E2E_DATABASE_URL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];

for (const name of ['LAMBDAPORT_BIN', 'LAMBDAPORT_SITE_ROOT', 'E2E_DATABASE_URL']) {
  if (!process.env[name]) throw new Error(`${name} is not set: run the end-to-end tests through scripts/test`);
}

/** Starts the server and resolves with its URL and the first admin's password from its output. */
function startServer() {
  // The sweeper every 2 s: an expired public URL is switched off within the test's wait.
  const args = ['serve', '--listen', '127.0.0.1:0', '--engine-listen', '127.0.0.1:0', '--sweep-interval-secs', '2'];
  const server = spawn(process.env.LAMBDAPORT_BIN, args, {
    env: {
      ...process.env,
      DATABASE_URL: process.env.E2E_DATABASE_URL,
      LAMBDAPORT_DATA_DIR: mkdtempSync(join(tmpdir(), 'lambdaport-e2e-')),
      RUST_LOG: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 60_000);
    server.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const password = out.match(/password: +(\S+)/)?.[1];
      const url = out.match(/running at (http:\/\/\S+)/)?.[1];
      const engine = out.match(/Lambda engine at (http:\/\/\S+)/)?.[1];
      if (password && url && engine) {
        clearTimeout(timer);
        resolve({ server, url, password, engine });
      }
    });
  });
}

let server, base, adminPassword, browser, engine;
/** Errors thrown in any page (a failed hydration among them): none may happen. */
const pageErrors = [];

before(async () => {
  ({ server, url: base, password: adminPassword, engine } = await startServer());
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

after(async () => {
  // Closed first: a failed check must not leave the browser and the server holding the run open.
  await browser?.close();
  server?.kill('SIGTERM');
  assert.deepEqual(pageErrors, [], 'no page threw (a hydration that failed throws)');
});

/** Asserts that the page, laid out 375 px wide (a phone), is no wider than that. */
async function fitsPhone(page, what) {
  const size = page.viewportSize();
  await page.setViewportSize({ width: 375, height: 740 });
  const wide = await page.evaluate(() => {
    const width = document.documentElement.scrollWidth;
    // What sticks out, to say why.
    // Inside a scrolling box (a table's wrapper) is fine: the box scrolls, the page does not.
    const scrolls = (el) => {
      for (let up = el.offsetParent ?? el.parentElement; up; up = up.parentElement) {
        if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(up).overflowX)) return true;
      }
      return false;
    };
    const culprits = [...document.querySelectorAll('body *')]
      .filter((el) => el.getBoundingClientRect().right > 376 && !scrolls(el))
      .slice(-3)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
    return { width, culprits };
  });
  await page.setViewportSize(size);
  assert.ok(wide.width <= 375, `${what} is ${wide.width}px wide at 375px: ${wide.culprits.join(', ')}`);
}

async function signIn(page, email, password) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('with JavaScript', () => {
  let page;
  let developerPassword;

  before(async () => {
    const context = await browser.newContext();
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
    page.on('console', (m) => m.type() === 'error' && m.text().startsWith('panicked') && console.error(page.url(), m.text().slice(0, 400)));
  });

  it('sends a visitor without a session to sign in', async () => {
    await page.goto(`${base}/`);
    assert.match(new URL(page.url()).pathname, /^\/signin$/);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  });

  it('signs in as the printed admin and shows the dashboard', async () => {
    await page.waitForSelector('body[data-hydrated]');
    await signIn(page, 'admin@lambdaport.local', adminPassword);
    await page.waitForURL(`${base}/`);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    assert.equal(await page.getByTestId('role').textContent(), 'admin');
    assert.equal(await page.getByTestId('account-count').textContent(), '1');
  });

  it('is hydrated: navigation and filtering happen without a reload', async () => {
    await page.waitForSelector('body[data-hydrated]');
    await page.evaluate(() => { window.__sameDocument = true; });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Admin', exact: true }).waitFor();
    await page.getByLabel('Filter users').fill('nobody-has-this-email');
    await page.getByText('Showing 0 of 1 users').waitFor();
    await page.getByLabel('Filter users').fill('');
    await page.getByText('Showing 1 of 1 users').waitFor();
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was never reloaded');
  });

  it('adds a user and shows the one-time password', async () => {
    await page.getByLabel('Email').fill('dev@example.com');
    await page.getByLabel('Role', { exact: true }).selectOption('developer');
    await page.getByRole('button', { name: 'Add user' }).click();
    const created = page.getByRole('status').filter({ hasText: 'One-time password' });
    await created.waitFor();
    developerPassword = (await created.textContent()).match(/One-time password: (\S+)/)[1];
    await page.getByText('Showing 2 of 2 users').waitFor();
    assert.equal(await page.getByLabel('Email').inputValue(), '', 'the form is cleared for the next user');
    await page.getByRole('cell', { name: 'dev@example.com' }).waitFor();
    await page.screenshot({ path: join(process.env.E2E_ARTIFACTS ?? tmpdir(), 'admin.png'), fullPage: true });
  });

  it('signs out, and the dashboard then needs a session again', async () => {
    await page.getByLabel('Account menu').click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/signin$/);
    await page.goto(`${base}/`);
    assert.match(new URL(page.url()).pathname, /^\/signin$/);
  });

  it('lets the new developer in, without the admin section', async () => {
    await page.waitForSelector('body[data-hydrated]');
    await signIn(page, 'dev@example.com', developerPassword);
    await page.waitForURL(`${base}/`);
    assert.equal(await page.getByTestId('role').textContent(), 'developer');
    const nav = page.getByRole('navigation', { name: 'Main' });
    // A developer's navigation offers only what a developer may use.
    for (const name of ['Admin', 'Audit', 'Governance']) {
      assert.equal(await nav.getByRole('link', { name }).count(), 0, name);
    }
    for (const name of ['Dashboard', 'Catalog', 'Create', 'Labs']) {
      assert.equal(await nav.getByRole('link', { name }).count(), 1, name);
    }
    // Typed in, an admin page says whose it is, with no form to fail.
    for (const path of ['/admin', '/audit']) {
      await page.goto(`${base}${path}`);
      const refusal = page.getByTestId('admins-only');
      await refusal.filter({ hasText: 'is for admins; you are signed in as a developer' }).waitFor();
      assert.equal(await page.locator('main form').count(), 0, `${path} shows no form`);
    }
  });

  it('lets the developer change their own password on the profile page', async () => {
    await page.goto(`${base}/profile`);
    await page.waitForSelector('body[data-hydrated]');
    await page.getByLabel('Current password').fill(developerPassword);
    await page.getByLabel('New password').fill('a new password for dev');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('status').filter({ hasText: 'Password changed' }).waitFor();
    assert.equal(await page.getByLabel('Current password').inputValue(), '', 'the form is cleared');
    await page.goto(`${base}/`);
    assert.equal(await page.getByTestId('role').textContent(), 'developer', 'this session goes on');
  });
});

describe('without JavaScript', () => {
  let page;

  before(async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    page = await context.newPage();
  });

  it('reports a wrong password after a plain form post', async () => {
    await page.goto(`${base}/signin`);
    await signIn(page, 'admin@lambdaport.local', 'not the password');
    await page.waitForURL(/\/signin\?.*__err=/);
    await page.getByRole('alert').filter({ hasText: 'wrong email or password' }).waitFor();
  });

  it('signs in with the form and renders the dashboard on the server', async () => {
    await signIn(page, 'admin@lambdaport.local', adminPassword);
    await page.waitForURL(`${base}/`);
    assert.equal(await page.getByTestId('role').textContent(), 'admin');
  });

  it('creates a team with the form', async () => {
    await page.goto(`${base}/admin`);
    await page.getByLabel('Team name').fill('Payments');
    await page.getByRole('button', { name: 'Create team' }).click();
    await page.waitForURL(/\/admin\??$/);
    await page.getByRole('status').filter({ hasText: 'Created team Payments' }).waitFor();
    await page.getByRole('cell', { name: 'Payments', exact: true }).waitFor();
  });

  it('disables an account with the form, and it cannot sign in until enabled', async () => {
    const row = page.getByRole('row').filter({ hasText: 'dev@example.com' });
    await row.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('status').filter({ hasText: 'Account disabled' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'dev@example.com' }).getByText('disabled', { exact: true }).waitFor();
    const other = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
    await other.goto(`${base}/signin`);
    await signIn(other, 'dev@example.com', 'a new password for dev');
    await other.getByRole('alert').filter({ hasText: 'this account is disabled' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'dev@example.com' }).getByRole('button', { name: 'Enable' }).click();
    await page.getByRole('status').filter({ hasText: 'Account enabled' }).waitFor();
    await signIn(other, 'dev@example.com', 'a new password for dev');
    await other.waitForURL(`${base}/`);
  });
});

/** A zip holding `lambda_function.py` with `source`. */
function zipOf(source, file = 'lambda_function.py') {
  return execFileSync('python3', ['-c', [
    'import base64, io, sys, zipfile',
    'b = io.BytesIO()',
    'z = zipfile.ZipFile(b, "w"); z.writestr(sys.argv[2], sys.argv[1]); z.close()',
    'sys.stdout.buffer.write(b.getvalue())',
  ].join('\n'), source, file]);
}

async function invokeEngine(name) {
  const json = { 'content-type': 'application/json' };
  return (await fetch(`${engine}/2015-03-31/functions/${name}/invocations`, { method: 'POST', headers: json, body: '{}' })).text();
}

/** Creates a Python function (or another, from `code`) in the embedded engine, as any AWS client would. */
async function createEngineFunction(name, tags, code = {}) {
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  });
  const role = await fetch(`${engine}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ Action: 'CreateRole', Version: '2010-05-08', RoleName: 'e2e-role', AssumeRolePolicyDocument: trust }),
  });
  assert.ok(role.ok || (await role.text()).includes('EntityAlreadyExists'));
  // As on AWS, the function writes logs only if its role may.
  const attached = await fetch(`${engine}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      Action: 'AttachRolePolicy', Version: '2010-05-08', RoleName: 'e2e-role',
      PolicyArn: 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
    }),
  });
  assert.ok(attached.ok, await attached.text());
  const zip = (code.zip ?? zipOf("def lambda_handler(e, c):\n    return 'ok'\n")).toString('base64');
  const created = await fetch(`${engine}/2015-03-31/functions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      FunctionName: name, Runtime: code.runtime ?? 'python3.12', Handler: code.handler ?? 'lambda_function.lambda_handler',
      Role: 'arn:aws:iam::000000000000:role/e2e-role', Code: { ZipFile: zip },
      Description: 'takes orders', Tags: tags,
    }),
  });
  assert.equal(created.status, 201, await created.text());
}

describe('catalog', () => {
  let page;

  /** Opens one of the function page's tabs, each its own address. */
  async function tab(name, path) {
    await page.getByRole('navigation', { name: 'Function' }).getByRole('link', { name, exact: true }).click();
    if (path) await page.waitForURL(new RegExp(`/catalog/[^/]+${path}$`));
  }

  before(async () => {
    const context = await browser.newContext();
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
    page.on('console', (m) => m.type() === 'error' && m.text().startsWith('panicked') && console.error(page.url(), m.text().slice(0, 400)));
    await page.goto(`${base}/signin`);
    await page.waitForSelector('body[data-hydrated]');
    await signIn(page, 'admin@lambdaport.local', adminPassword);
    await page.waitForURL(`${base}/`);
  });

  it('starts empty and finds a function made outside the console by syncing', async () => {
    await createEngineFunction('e2e-orders', { team: 'payments', 'lambdaport:owner': 'admin@lambdaport.local' });
    await page.goto(`${base}/catalog`);
    // Hydrated first: a box ticked before then is unticked again from the URL by hydration.
    await page.waitForSelector('body[data-hydrated]');
    await page.getByTestId('catalog-empty').waitFor();
    const local = page.getByTestId('connection').filter({ hasText: 'Local' });
    await local.getByRole('button', { name: 'Sync now' }).click();
    await page.getByRole('status').filter({ hasText: 'Synced Local' }).waitFor();
    // The page reloads its data after the action: the connection now reports the sync.
    await local.getByText(/1 functions, 1 new, 0 gone/).waitFor();
    assert.equal(await page.getByRole('alert').count(), 0, 'no error after reloading the catalog');
    await page.getByLabel('Not in the catalog yet (shadows)').check();
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/view=shadows/);
    const row = page.getByTestId('catalog-row').filter({ hasText: 'e2e-orders' });
    await row.waitFor();
    assert.equal(await row.getByLabel('Owner').inputValue(), 'admin@lambdaport.local', 'owner suggested from the tag');
    await row.getByRole('button', { name: 'Import' }).click();
    await page.getByRole('status').filter({ hasText: 'Imported into the catalog' }).waitFor();
  });

  it('searches, filters by facet and says when nothing matches', async () => {
    await page.goto(`${base}/catalog?q=orders`);
    const row = page.getByTestId('catalog-row').filter({ hasText: 'e2e-orders' });
    await row.waitFor();
    assert.match(await row.textContent(), /team=payments/);
    await page.getByRole('complementary', { name: 'Facets' }).getByRole('link', { name: 'python3.12' }).waitFor();
    await page.goto(`${base}/catalog?sort=updated`);
    await page.getByTestId('catalog-row').filter({ hasText: 'e2e-orders' }).waitFor();
    assert.equal(await page.getByLabel('Sort').inputValue(), 'updated', 'the sort is kept in the form');
    await page.goto(`${base}/catalog?public=1`);
    await page.getByTestId('catalog-empty').filter({ hasText: 'No function matches these filters' }).waitFor();
    // A facet composes with the text, stays when the search form is sent, and is removed alone.
    await page.goto(`${base}/catalog?q=orders`);
    await page.waitForSelector('body[data-hydrated]');
    await page.getByRole('complementary', { name: 'Facets' }).getByRole('link', { name: 'python3.12' }).click();
    await page.waitForURL(/runtime=python3\.12/);
    assert.match(page.url(), /q=orders/);
    await page.locator('#catalog-q').fill('takes');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/q=takes/);
    assert.match(page.url(), /runtime=python3\.12/, 'the facet stays when the form is sent');
    await page.getByTestId('catalog-row').filter({ hasText: 'e2e-orders' }).waitFor();
    await page.getByRole('link', { name: 'Remove the filter runtime: python3.12' }).click();
    await page.waitForURL((url) => !url.search.includes('runtime='));
    assert.match(page.url(), /q=takes/, 'only that filter went');
    // Words match their starts; when none does, a name's middle.
    await page.goto(`${base}/catalog?q=ord`);
    await page.getByTestId('catalog-row').filter({ hasText: 'e2e-orders' }).waitFor();
    await page.goto(`${base}/catalog?q=2e-ord`);
    await page.getByTestId('by-name').waitFor();
    await page.getByTestId('catalog-row').filter({ hasText: 'e2e-orders' }).waitFor();
    await page.screenshot({ path: join(process.env.E2E_ARTIFACTS ?? tmpdir(), 'catalog.png'), fullPage: true });
  });

  it('shows the function beside its live configuration and saves ownership to the cloud tags', async () => {
    await page.goto(`${base}/catalog?q=orders`);
    await page.waitForSelector('body[data-hydrated]');
    await page.getByRole('link', { name: 'e2e-orders' }).click();
    await page.getByRole('heading', { name: 'e2e-orders' }).waitFor();
    const live = page.getByTestId('live-config');
    await live.getByRole('row', { name: /memory/ }).filter({ hasText: '128' }).waitFor();
    await page.waitForSelector('body[data-hydrated]');
    await tab('Tags', '/tags');
    await page.getByLabel('Lifecycle').selectOption('production');
    await page.getByRole('textbox', { name: 'Tags', exact: true }).fill('team=payments\ntier=gold');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    const arn = 'arn:aws:lambda:us-east-1:000000000000:function:e2e-orders';
    const tags = (await (await fetch(`${engine}/2017-03-31/tags/${arn}`)).json()).Tags;
    assert.equal(tags['lambdaport:lifecycle'], 'production');
    assert.equal(tags['lambdaport:owner'], 'admin@lambdaport.local');
    assert.equal(tags.tier, 'gold');
    await tab('Activity', '/activity');
    await page.getByTestId('activity').getByText('function.update_metadata').waitFor();
    await tab('Configuration', '/configuration');
    await page.getByLabel('Memory (MB)').fill('256');
    // Variable values are not on the page until the editor reveals them.
    await page.getByRole('button', { name: 'Reveal values to edit' }).click();
    const variables = page.getByLabel('Environment variables, one KEY=value a line');
    await variables.waitFor();
    await variables.fill('STAGE=prod');
    await page.getByRole('button', { name: 'Update configuration' }).click();
    await page.getByRole('status').filter({ hasText: 'Configuration updated' }).waitFor();
    const config = await (await fetch(`${engine}/2015-03-31/functions/e2e-orders/configuration`)).json();
    assert.equal(config.MemorySize, 256);
    assert.equal(config.Environment.Variables.STAGE, 'prod');
    // Saved and reloaded: the name shows, the value is masked again.
    await page.getByTestId('environment-keys').getByText('STAGE').waitFor();
    assert.equal(await page.getByText('STAGE=prod').count(), 0, 'the value is not on the page');
  });

  it('edits the handler inline with highlighting, and deploys an uploaded zip', async () => {
    await tab('Code', '/code');
    const editor = page.getByLabel("lambda_function.py (the handler's file)");
    await editor.waitFor();
    assert.equal(await page.locator('.editor .tok-kw').first().textContent(), 'def', 'keywords are highlighted');
    // A click on a character of the highlighted copy puts the caret there: both layers share
    // font, size, line height and padding.
    await page.waitForSelector('body[data-hydrated]');
    const ok = await page.locator('.editor .tok-str').filter({ hasText: "'ok'" }).evaluate((token) => {
      const range = document.createRange();
      range.setStart(token.firstChild, 1);
      range.setEnd(token.firstChild, 2);
      const box = range.getBoundingClientRect();
      return { x: box.left + 1, y: box.top + box.height / 2 };
    });
    await page.mouse.click(ok.x, ok.y);
    await page.keyboard.type('X');
    assert.match(await editor.inputValue(), /return 'Xok'/, 'typed where it was clicked');
    await editor.fill("def lambda_handler(e, c):\n    return 'edited'\n");
    await page.locator('.editor .tok-str').filter({ hasText: "'edited'" }).waitFor();
    await page.getByRole('button', { name: 'Save code' }).click();
    await page.getByRole('status').filter({ hasText: 'Code saved' }).waitFor();
    assert.equal(await invokeEngine('e2e-orders'), '"edited"');
    await page.getByLabel('Deployment package').setInputFiles({
      name: 'package.zip', mimeType: 'application/zip', buffer: zipOf("def lambda_handler(e, c):\n    return 'uploaded'\n"),
    });
    await page.getByRole('button', { name: 'Upload and deploy' }).click();
    await page.getByRole('status').filter({ hasText: 'Code uploaded' }).waitFor();
    assert.equal(await invokeEngine('e2e-orders'), '"uploaded"');
    assert.match(page.url(), /\/code$/, 'the upload comes back to the Code tab');
    await page.waitForSelector('body[data-hydrated]');
    await tab('Activity', '/activity');
    await page.getByTestId('activity').getByText('function.update_code').first().waitFor();
  });

  it('transfers ownership after a confirmation', async () => {
    await page.waitForSelector('body[data-hydrated]');
    await tab('Tags', '/tags');
    await page.getByLabel('New owner (email)').fill('dev@example.com');
    await page.getByRole('button', { name: 'Transfer' }).click();
    assert.equal(await page.getByRole('status').filter({ hasText: 'Ownership transferred' }).count(), 0,
      'not without the confirmation');
    await page.getByLabel('I want to hand this function over').check();
    await page.getByRole('button', { name: 'Transfer' }).click();
    await page.getByRole('status').filter({ hasText: 'Ownership transferred' }).waitFor();
    await tab('Overview');
    await page.getByText('Owner: dev@example.com').waitFor();
    const arn = 'arn:aws:lambda:us-east-1:000000000000:function:e2e-orders';
    const tags = (await (await fetch(`${engine}/2017-03-31/tags/${arn}`)).json()).Tags;
    assert.equal(tags['lambdaport:owner'], 'dev@example.com');
  });

  it('keeps what the cloud changed while the page was open: tags, configuration, the audit', async () => {
    const arn = 'arn:aws:lambda:us-east-1:000000000000:function:e2e-orders';
    const json = { 'content-type': 'application/json' };
    const configuration = `${engine}/2015-03-31/functions/e2e-orders/configuration`;
    await tab('Tags', '/tags');
    await page.reload();
    await page.waitForSelector('body[data-hydrated]');
    // A tag added with the CLI after the page opened survives a Save that did not touch it.
    const tagged = await fetch(`${engine}/2017-03-31/tags/${arn}`, {
      method: 'POST', headers: json, body: JSON.stringify({ Tags: { 'added-by': 'cli' } }),
    });
    assert.ok(tagged.ok, await tagged.text());
    await page.getByLabel('Lifecycle').selectOption('deprecated');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    const tags = (await (await fetch(`${engine}/2017-03-31/tags/${arn}`)).json()).Tags;
    assert.equal(tags['added-by'], 'cli', 'the cloud\'s new tag is kept');
    assert.equal(tags['lambdaport:lifecycle'], 'deprecated');

    // A timeout changed in the cloud after the page opened is named, not reverted.
    await tab('Configuration', '/configuration');
    await page.reload();
    await page.waitForSelector('body[data-hydrated]');
    const before = await (await fetch(configuration)).json();
    const changed = await fetch(configuration, { method: 'PUT', headers: json, body: JSON.stringify({ Timeout: 42 }) });
    assert.ok(changed.ok, await changed.text());
    await page.getByLabel('Memory (MB)').fill('512');
    await page.getByRole('button', { name: 'Update configuration' }).click();
    const refusal = page.getByRole('alert').filter({ hasText: 'changed in the cloud since you opened this page' });
    await refusal.waitFor();
    assert.match(await refusal.textContent(), new RegExp(`timeout ${before.Timeout} → 42 s`));
    let now = await (await fetch(configuration)).json();
    assert.deepEqual([now.Timeout, now.MemorySize], [42, before.MemorySize], 'nothing was overwritten');
    assert.equal(await page.getByLabel('Memory (MB)').inputValue(), '512', 'what the user typed stays');
    // Applied anyway, only the memory changes.
    await page.getByLabel(/Apply anyway/).check();
    await page.getByRole('button', { name: 'Update configuration' }).click();
    await page.getByRole('status').filter({ hasText: 'Configuration updated' }).waitFor();
    now = await (await fetch(configuration)).json();
    assert.deepEqual([now.Timeout, now.MemorySize], [42, 512]);
    assert.equal(now.Environment.Variables.STAGE, 'prod', 'the variables were not sent, so kept');

    // The audit's "before" is what the cloud held, not the catalog's copy.
    const functionPage = page.url().replace(/\/configuration$/, '');
    await page.goto(`${base}/audit?action=function.update_configuration`);
    await page.getByTestId('audit-table').getByText('"timeout_s":42').first().waitFor();
    await page.goto(functionPage);
    await page.waitForSelector('body[data-hydrated]');
  });

  it('tests the function from a template, saves the event shared, and replays it from History', async () => {
    await tab('Test', '/test');
    await page.getByLabel('New from a template').selectOption('s3-put');
    await page.getByRole('button', { name: 'Use template' }).click();
    await page.waitForURL(/template=s3-put/);
    await page.getByTestId('editor-source').filter({ hasText: 's3-put' }).waitFor();
    assert.match(await page.getByLabel('Event JSON').inputValue(), /"eventSource": "aws:s3"/);
    await page.waitForSelector('body[data-hydrated]');
    // Checked as it is typed.
    const payload = page.getByLabel('Event JSON');
    await payload.fill('{"order": ');
    await page.getByText(/^Not JSON/).waitFor();
    await payload.fill('{"order": 7}');
    await page.waitForFunction(() => !document.querySelector('#test-payload-problem')?.textContent);
    // A tenant for a function without tenant isolation: the cloud's refusal says what to change.
    await page.getByLabel(/^Tenant id/).fill('blue');
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'does not use tenant isolation' }).waitFor();
    await page.getByLabel(/^Tenant id/).fill('');
    await page.getByRole('button', { name: 'Test', exact: true }).click();
    const result = page.getByTestId('test-result');
    await result.waitFor();
    assert.match(await page.getByTestId('test-response').textContent(), /uploaded/);
    await page.getByTestId('test-log').filter({ hasText: 'REPORT RequestId' }).waitFor();
    assert.match(await result.textContent(), /Billed duration.*Memory used\d+ of \d+ MB/s);
    // Saved, shared.
    await page.getByLabel('Name', { exact: true }).fill('order-7');
    await page.getByLabel(/^ ?Shared:/).check();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Test event saved' }).waitFor();
    await page.getByTestId('test-event').filter({ hasText: 'order-7' }).filter({ hasText: 'shared' }).waitFor();
    // Replayed from History: one more invocation, recorded.
    const rows = page.getByTestId('test-history-row');
    const before = await rows.count();
    assert.ok(before >= 1);
    await rows.first().getByRole('button', { name: 'Replay' }).click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=test-history-row]').length > n, before);
    // Exported as Lambda's shareable test events, and imported back under another name.
    const id = new URL(page.url()).pathname.split('/')[2];
    const exported = await page.request.get(`${base}/catalog/${id}/test-events.json`);
    assert.equal(exported.status(), 200);
    const doc = await exported.json();
    assert.equal(doc.components.examples['order-7']['x-metadata'].invocationType, 'RequestResponse');
    doc.components.examples = { 'from-sam': doc.components.examples['order-7'] };
    await page.getByText('Export or import').click();
    await page.getByLabel('Shareable test event document').fill(JSON.stringify(doc));
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Imported 1 test event' }).waitFor();
    await page.getByTestId('test-event').filter({ hasText: 'from-sam' }).waitFor();
    // Another user sees the shared event, with whose it is, and not the private import.
    const other = await (await browser.newContext()).newPage();
    await other.goto(`${base}/signin`);
    await other.waitForSelector('body[data-hydrated]');
    await signIn(other, 'dev@example.com', 'a new password for dev');
    await other.waitForURL(`${base}/`);
    await other.goto(`${base}/catalog/${id}/test`);
    await other.getByTestId('test-event').filter({ hasText: 'order-7' }).filter({ hasText: 'admin@lambdaport.local' }).waitFor();
    assert.equal(await other.getByTestId('test-event').filter({ hasText: 'from-sam' }).count(), 0);
    await other.context().close();
    await tab('Activity', '/activity');
    await page.getByTestId('activity').getByText('function.test_invoke').first().waitFor();
  });

  it('filters the logs with a JSON pattern and context, opens an invocation, and tails them live', async () => {
    const json = { 'content-type': 'application/json' };
    const printer = "import json\ndef lambda_handler(e, c):\n    print(json.dumps({'level': e.get('level', 'INFO'), 'n': e.get('n')}))\n    return 'logged'\n";
    const updated = await fetch(`${engine}/2015-03-31/functions/e2e-orders/code`, {
      method: 'PUT', headers: json, body: JSON.stringify({ ZipFile: zipOf(printer).toString('base64') }),
    });
    assert.ok(updated.ok, await updated.text());
    const invoke = async (event) => (await fetch(`${engine}/2015-03-31/functions/e2e-orders/invocations`, {
      method: 'POST', headers: json, body: JSON.stringify(event),
    })).text();
    for (const [level, n] of [['INFO', 1], ['ERROR', 2], ['INFO', 3]]) assert.equal(await invoke({ level, n }), '"logged"');

    await tab('Logs', '/logs');
    await page.getByRole('heading', { name: 'Lines' }).waitFor();
    await page.getByLabel('Filter pattern').first().fill('{ $.level = "ERROR" }');
    await page.getByLabel('Lines of context').fill('1');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/pattern=/);
    const matched = page.locator('[data-testid=log-line].log-match');
    await matched.first().waitFor();
    assert.equal(await matched.count(), 1, 'only the ERROR line matches');
    assert.match(await matched.textContent(), /"level": "ERROR", "n": 2/);
    const block = page.getByTestId('log-block').filter({ has: matched });
    const lines = await block.getByTestId('log-line').allTextContents();
    assert.equal(lines.length, 3, `a line of context either side: ${lines}`);
    assert.match(lines[0], /START RequestId/);
    assert.match(lines[2], /END RequestId/);
    // The whole invocation, from its START line to its REPORT line.
    await block.getByRole('link', { name: 'invocation' }).first().click();
    const invocation = page.getByTestId('invocation');
    await invocation.waitFor();
    const whole = await invocation.getByTestId('log-line').allTextContents();
    assert.equal(whole.length, 4, `${whole}`);
    assert.match(whole[3], /REPORT RequestId/);
    // What is shown, downloaded.
    const download = await page.getByRole('link', { name: 'Download what is shown' }).getAttribute('href');
    const text = await (await page.request.get(`${base}${download}`)).text();
    assert.match(text, /"level": "ERROR", "n": 2/);
    assert.doesNotMatch(text, /"n": 3/);

    // The live tail: a line written by an invocation from outside the page arrives without a reload.
    await page.waitForSelector('body[data-hydrated]');
    await page.evaluate(() => { window.__sameDocument = true; });
    const tail = page.getByTestId('live-tail');
    await tail.getByLabel('Filter pattern').fill('ERROR');
    await tail.getByLabel(/Highlight/).fill('tail-marker');
    await tail.getByRole('button', { name: 'Start live tail' }).click();
    await tail.getByTestId('tail-status').filter({ hasText: 'Tailing' }).waitFor();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await invoke({ level: 'INFO', n: 'quiet' }), '"logged"');
    assert.equal(await invoke({ level: 'ERROR', n: 'tail-marker' }), '"logged"');
    const arrived = tail.getByTestId('tail-line').filter({ hasText: 'tail-marker' });
    await arrived.waitFor({ timeout: 10_000 });
    assert.equal(await arrived.locator('mark').textContent(), 'tail-marker', 'the term is highlighted');
    assert.equal(await tail.getByTestId('tail-line').filter({ hasText: 'quiet' }).count(), 0, 'filtered out');
    await tail.getByRole('button', { name: 'Pause' }).click();
    assert.equal(await invoke({ level: 'ERROR', n: 'while-paused' }), '"logged"');
    await tail.getByTestId('tail-status').filter({ hasText: '1 line(s) waiting' }).waitFor({ timeout: 10_000 });
    await tail.getByRole('button', { name: 'Resume' }).click();
    await tail.getByTestId('tail-line').filter({ hasText: 'while-paused' }).waitFor();
    await tail.getByRole('button', { name: 'Stop' }).click();
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was never reloaded');
    await page.screenshot({ path: join(process.env.E2E_ARTIFACTS ?? tmpdir(), 'logs.png'), fullPage: true });
  });

  it('creates a URL, sends requests with the tester and its curl, lints and doctors the policy, and preflights CORS', async () => {
    /** Runs a copied curl with the engine's keys; its status code. */
    const curl = (command) => execFileSync('sh', ['-c', `${command} -o /dev/null -w '%{http_code}'`], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
    }).toString().trim();
    await tab('URL', '/url');
    await page.getByText('This function has no URL').waitFor();
    await page.waitForSelector('body[data-hydrated]');
    await page.getByLabel(/^ ?NONE/).check();
    await page.getByLabel(/Configure CORS/).check();
    await page.getByLabel('Allowed origins').fill('https://app.example.com');
    await page.getByLabel('Allowed methods').fill('PUT, GET');
    await page.getByLabel('Allowed headers').fill('content-type');
    await page.getByRole('button', { name: 'Create the URL' }).click();
    await page.getByRole('status').filter({ hasText: 'URL saved' }).waitFor();
    await page.getByTestId('function-url').waitFor();
    await page.getByTestId('lint-clean').waitFor();
    assert.equal(await page.getByTestId('statement').count(), 2);

    // The tester, and the curl it writes, get the same answer.
    await page.getByLabel('Path').fill('/hello');
    await page.getByLabel('Query').fill('a=1');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByTestId('url-status').filter({ hasText: '200' }).waitFor();
    assert.match(await page.getByTestId('url-response').textContent(), /"logged"/);
    assert.equal(await page.getByLabel('Path').inputValue(), '/hello', 'the form keeps the request');
    assert.equal(curl(await page.getByTestId('url-curl').textContent()), '200');

    // One statement removed outside the console: the linter and the doctor name it; the fix puts it back.
    const removed = await fetch(`${engine}/2015-03-31/functions/e2e-orders/policy/FunctionURLAllowInvokeAction`, { method: 'DELETE' });
    assert.ok(removed.ok, await removed.text());
    await page.reload();
    await page.waitForSelector('body[data-hydrated]');
    const finding = page.getByTestId('finding').filter({ hasText: 'FunctionURLAllowInvokeAction' });
    await finding.waitFor();
    assert.equal(await finding.getAttribute('data-severity'), 'error');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByTestId('url-status').filter({ hasText: '403' }).waitFor();
    assert.match(await page.getByTestId('url-diagnosis').textContent(), /missing FunctionURLAllowInvokeAction/);
    assert.equal(curl(await page.getByTestId('url-curl').textContent()), '403');
    await finding.getByRole('button', { name: 'Add the missing statement(s)' }).click();
    await page.getByRole('status').filter({ hasText: 'Policy changed' }).waitFor();
    await page.getByTestId('lint-clean').waitFor();

    // The preflight simulator: the configured origin passes, another is refused with what to change.
    const preflight = async (origin, allowed) => {
      await page.getByLabel('Origin', { exact: true }).fill(origin);
      await page.getByLabel('Method', { exact: true }).last().fill('PUT');
      await page.getByLabel('Request headers').fill('content-type');
      await page.getByRole('button', { name: 'Preflight' }).click();
      const verdict = page.locator(`[data-testid=preflight-verdict][data-allowed=${allowed}]`);
      await verdict.waitFor();
      return verdict;
    };
    await preflight('https://app.example.com', true);
    const refused = await preflight('https://evil.example', false);
    assert.match(await refused.getByTestId('preflight-changes').textContent(), /Add https:\/\/evil\.example to AllowOrigins/);

    // AWS_IAM: the tester signs, and so does the curl it writes.
    await page.getByText('Change the URL').click();
    await page.getByLabel(/^ ?AWS_IAM/).check();
    await page.getByRole('button', { name: 'Save the URL' }).click();
    await page.getByTestId('url-auth').filter({ hasText: 'AWS_IAM' }).waitFor();
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByTestId('url-answer').filter({ hasText: 'signed with SigV4' }).waitFor();
    assert.equal(await page.getByTestId('url-status').textContent(), '200');
    const signed = await page.getByTestId('url-curl').textContent();
    assert.match(signed, /--aws-sigv4 aws:amz:us-east-1:lambda/);
    assert.equal(curl(signed), '200');
    assert.equal(curl(signed.replace(/--aws-sigv4 \S+ --user \S+ /, '')), '403', 'unsigned, it is refused');

    // History, newest first, and a replay fills the form.
    const rows = page.getByTestId('url-history-row');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=url-history-row]').length >= 3);
    assert.match(await rows.first().textContent(), /GET \/200/, 'the newest first');
    assert.match(await rows.last().textContent(), /GET \/hello\?a=1200/);
    await rows.last().getByRole('link', { name: 'Replay' }).click();
    await page.waitForURL(/replay=/);
    await page.waitForFunction(() => document.querySelector('#tester-query')?.value === 'a=1');
    assert.equal(await page.getByLabel('Path').inputValue(), '/hello');
    await tab('Activity', '/activity');
    await page.getByTestId('activity').getByText('function.create_url').first().waitFor();
  });

  it('shows a streamed answer chunk by chunk while it arrives', async () => {
    const handler = [
      'export const handler = awslambda.streamifyResponse(async (event, stream) => {',
      "  stream = awslambda.HttpResponseStream.from(stream, { statusCode: 200, headers: { 'content-type': 'text/plain' } });",
      "  stream.write('first chunk\\n');",
      '  await new Promise((r) => setTimeout(r, 1000));',
      "  stream.write('second chunk\\n');",
      '  await new Promise((r) => setTimeout(r, 1000));',
      "  stream.end('last chunk\\n');",
      '});',
    ].join('\n');
    await createEngineFunction('e2e-stream', { team: 'payments', 'lambdaport:owner': 'admin@lambdaport.local' },
      { zip: zipOf(handler, 'index.mjs'), runtime: 'nodejs22.x', handler: 'index.handler' });
    await page.goto(`${base}/catalog`);
    const local = page.getByTestId('connection').filter({ hasText: 'Local' });
    await local.getByRole('button', { name: 'Sync now' }).click();
    await page.getByRole('status').filter({ hasText: 'Synced Local' }).waitFor();
    await page.goto(`${base}/catalog?view=shadows`);
    const row = page.getByTestId('catalog-row').filter({ hasText: 'e2e-stream' });
    await row.getByRole('button', { name: 'Import' }).click();
    await page.getByRole('status').filter({ hasText: 'Imported into the catalog' }).waitFor();
    await page.goto(`${base}/catalog?q=e2e-stream`);
    await page.getByTestId('catalog-row').getByRole('link', { name: 'e2e-stream' }).click();
    await page.getByRole('heading', { name: 'e2e-stream' }).waitFor();
    await tab('URL', '/url');
    await page.waitForSelector('body[data-hydrated]');
    await page.getByLabel(/^ ?NONE/).check();
    await page.getByLabel('Invoke mode').selectOption('RESPONSE_STREAM');
    await page.getByRole('button', { name: 'Create the URL' }).click();
    await page.getByTestId('function-url').waitFor();
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    // The first chunk shows while the function is still writing the rest.
    const live = page.getByTestId('url-live');
    await live.getByTestId('url-live-chunk').filter({ hasText: 'first chunk' }).waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId('url-answer').count(), 0, 'the answer is not whole yet');
    assert.match(await live.textContent(), /200/);
    await page.getByTestId('url-answer').waitFor({ timeout: 15_000 });
    assert.equal(await live.count(), 0, 'the whole answer replaces the live one');
    assert.match(await page.getByTestId('url-chunks').textContent(), /first chunk[\s\S]*second chunk[\s\S]*last chunk/);
    // Back to the function the rest of the tests use.
    await page.goto(`${base}/catalog?q=orders`);
    await page.getByTestId('catalog-row').getByRole('link', { name: 'e2e-orders' }).click();
    await page.getByRole('heading', { name: 'e2e-orders' }).waitFor();
  });

  it('counts the invocations on Monitor, in charts that read without JavaScript, with their cost', async () => {
    // One throttle (at a reserved concurrency of 0) and one queued event, from outside the console.
    const fn = `${engine}/2015-03-31/functions/e2e-orders`;
    const concurrency = `${engine}/2017-10-31/functions/e2e-orders/concurrency`;
    const reserve = await fetch(concurrency, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"ReservedConcurrentExecutions":0}' });
    assert.ok(reserve.ok, await reserve.text());
    const json = { 'content-type': 'application/json' };
    assert.equal((await fetch(`${fn}/invocations`, { method: 'POST', body: '{}', headers: json })).status, 429);
    assert.ok((await fetch(concurrency, { method: 'DELETE' })).ok);
    const queued = await fetch(`${fn}/invocations`, { method: 'POST', body: '{}', headers: { ...json, 'x-amz-invocation-type': 'Event' } });
    assert.equal(queued.status, 202);
    await tab('Monitor', '/monitor');
    const totals = page.getByTestId('monitor-totals');
    await totals.waitFor();
    const invocations = Number((await totals.locator('dd').first().textContent()).trim());
    assert.ok(invocations >= 5, `the logs' and the URL's invocations: ${invocations}`);
    const fact = async (name) => (await totals.locator(`dt:text-is("${name}") + dd`).textContent()).trim();
    assert.equal(await fact('Throttles'), '1');
    assert.match(await fact('Asynchronous events received / dropped'), /^1 \/ 0$/);
    const charts = page.getByTestId('chart');
    assert.equal(await charts.count(), 6);
    const throttles = await charts.filter({ hasText: 'Throttles' }).locator('title').allTextContents();
    assert.ok(throttles.some((t) => /: 1 throttled/.test(t)), `${throttles.slice(-3)}`);
    const hovers = await charts.first().locator('title').allTextContents();
    assert.ok(hovers.some((t) => /: [1-9]\d* invocations, \d+ errors/.test(t)), `${hovers.slice(-3)}`);
    assert.match(await page.getByTestId('monitor-month').textContent(), /^\$\d/);
    await page.getByLabel('Range').selectOption('24h');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.waitForURL(/range=24h/);
    await page.getByTestId('monitor-totals').waitFor();
  });

  it('shows the execution role and the resource policy on Permissions, with what stands out', async () => {
    await tab('Permissions', '/permissions');
    await page.getByTestId('role-name').filter({ hasText: 'e2e-role' }).waitFor();
    // Without its logging policy the role stands out.
    const policy = async (Action) => {
      const response = await fetch(`${engine}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          Action, Version: '2010-05-08', RoleName: 'e2e-role',
          PolicyArn: 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
        }),
      });
      assert.ok(response.ok, await response.text());
    };
    assert.equal(await page.getByTestId('permission-finding').filter({ hasText: 'no permission to write logs' }).count(), 0);
    await policy('DetachRolePolicy');
    await page.reload();
    await page.getByTestId('permission-finding').filter({ hasText: 'no permission to write logs' }).waitFor();
    await policy('AttachRolePolicy');
    await page.getByText('Anyone may call the function\'s URL, while the URL\'s auth type is NONE.').waitFor();
  });

  it('publishes versions, weights an alias between them, and shows which version served each test', async () => {
    await tab('Versions', '/versions');
    await page.waitForSelector('body[data-hydrated]');
    await page.getByLabel('Description').first().fill('first');
    await page.getByRole('button', { name: 'Publish a version' }).click();
    const published = page.getByRole('status').filter({ hasText: /Published version \d+/ });
    await published.waitFor();
    const first = (await published.textContent()).match(/Published version (\d+)/)[1];
    // A code change, then a second version.
    const code = zipOf("def lambda_handler(e, c):\n    return 'two'\n").toString('base64');
    const updated = await fetch(`${engine}/2015-03-31/functions/e2e-orders/code`, {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ZipFile: code }),
    });
    assert.ok(updated.ok, await updated.text());
    await page.getByLabel('Description').first().fill('second');
    await page.getByRole('button', { name: 'Publish a version' }).click();
    const second = String(Number(first) + 1);
    await page.getByRole('status').filter({ hasText: `Published version ${second}` }).waitFor();
    await page.getByTestId('version-row').filter({ hasText: 'second' }).waitFor();
    // An alias sending half its invocations to the second version.
    await page.locator('#new-alias-name').fill('live');
    await page.locator('#new-alias-version').selectOption(first);
    await page.locator('#new-alias-weight-version').selectOption(second);
    await page.locator('#new-alias-weight-percent').fill('50');
    await page.getByRole('button', { name: 'Create alias' }).click();
    await page.getByRole('status').filter({ hasText: 'Alias live saved' }).waitFor();
    assert.equal(await page.getByTestId('alias-routing').first().textContent(), `${first} (50%) and ${second} (50%)`);
    // Tests through the alias: each records the version that ran.
    await tab('Test', '/test');
    await page.waitForSelector('body[data-hydrated]');
    await page.getByLabel('Version or alias (optional)').fill('live');
    for (let i = 0; i < 6; i++) {
      const before = await page.getByTestId('test-history-row').count();
      await page.getByRole('button', { name: 'Test', exact: true }).click();
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid=test-history-row]').length > n, before);
    }
    await tab('Versions', '/versions');
    const served = page.getByTestId('served-row').filter({ hasText: 'live' });
    await served.first().waitFor();
    const versions = new Set(await page.getByTestId('served-row').filter({ hasText: 'live' }).getByTestId('executed-version').allTextContents());
    assert.ok([...versions].every((v) => v === first || v === second), `${[...versions]}`);
    assert.ok(versions.size >= 1);
  });

  it('makes an API token on the profile page, uses it, and revokes it', async () => {
    await page.goto(`${base}/profile`);
    await page.waitForSelector('body[data-hydrated]');
    await page.getByRole('textbox', { name: 'Name' }).fill('e2e script');
    await page.getByRole('button', { name: 'Create token' }).click();
    const created = page.getByRole('status').filter({ hasText: 'will not be shown again' });
    await created.waitFor();
    const token = (await created.textContent()).match(/(lpat_\w+)/)[1];
    const call = () => fetch(`${base}/api/v1/functions?q=orders`, { headers: { authorization: `Bearer ${token}` } });
    const listed = await call();
    assert.equal(listed.status, 200);
    assert.equal((await listed.json()).functions[0].name, 'e2e-orders');
    const row = page.getByTestId('token-row').filter({ hasText: 'e2e script' });
    await row.getByText('active').waitFor();
    await row.getByLabel('Scripts using it stop working').check();
    await row.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('status').filter({ hasText: 'Token revoked' }).waitFor();
    await row.getByText('revoked').waitFor();
    const refused = await call();
    assert.equal(refused.status, 401);
    assert.equal((await refused.json()).error.code, 'unauthorized');
  });

  it('restricts the catalog to owners and teams, and opens it again', async () => {
    await page.goto(`${base}/admin`);
    await page.waitForSelector('body[data-hydrated]');
    await page.getByTestId('catalog-access').filter({ hasText: 'The catalog is open' }).waitFor();
    await page.getByLabel('Only owners, their teams and admins may see a function').check();
    await page.getByRole('button', { name: 'Save access' }).click();
    await page.getByTestId('catalog-access').filter({ hasText: 'The catalog is restricted' }).waitFor();
    await page.getByLabel('Only owners, their teams and admins may see a function').uncheck();
    await page.getByRole('button', { name: 'Save access' }).click();
    await page.getByTestId('catalog-access').filter({ hasText: 'The catalog is open' }).waitFor();
  });

  it('filters the audit trail and exports what it shows', async () => {
    await page.goto(`${base}/audit?action=function.`);
    const table = page.getByTestId('audit-table');
    await table.getByRole('cell', { name: 'function.import' }).first().waitFor();
    assert.equal(await table.getByRole('cell', { name: 'connection.create' }).count(), 0, 'filtered by action');
    const csv = await page.request.get(`${base}/audit/export?format=csv&action=function.`);
    assert.equal(csv.status(), 200);
    assert.match(csv.headers()['content-disposition'], /attachment; filename="audit.csv"/);
    const text = await csv.text();
    assert.match(text, /^id,time,actor,action,target,detail,source_ip\r\n/);
    assert.match(text, /"function.update_metadata"/);
    assert.doesNotMatch(text, /connection.create/);
    const json = await (await page.request.get(`${base}/audit/export?format=json&target=e2e-orders`)).json();
    assert.ok(json.length >= 2 && json.every((e) => e.target === 'function:e2e-orders'), JSON.stringify(json));
  });
});

/** Asks the engine through boto3 (the AWS SDK for Python) whether each lab resource is gone. */
function labResourcesLeft(name, role) {
  return JSON.parse(execFileSync('python3', ['-c', [
    'import boto3, json, sys',
    'endpoint, name, role = sys.argv[1:4]',
    'kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")',
    'lam, logs, iam = boto3.client("lambda", **kw), boto3.client("logs", **kw), boto3.client("iam", **kw)',
    'def there(call):',
    '    try:',
    '        call(); return True',
    '    except (lam.exceptions.ResourceNotFoundException, iam.exceptions.NoSuchEntityException):',
    '        return False',
    'groups = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/" + name)["logGroups"]',
    'print(json.dumps({',
    '    "function": there(lambda: lam.get_function(FunctionName=name)),',
    '    "url": there(lambda: lam.get_function_url_config(FunctionName=name)),',
    '    "log_group": any(g["logGroupName"] == "/aws/lambda/" + name for g in groups),',
    '    "role": there(lambda: iam.get_role(RoleName=role)),',
    '}))',
  ].join('\n'), engine, name, role]).toString());
}

describe('guided lab', () => {
  let page, admin, learnerPassword;

  before(async () => {
    admin = await (await browser.newContext()).newPage();
    admin.on('pageerror', (error) => pageErrors.push(`${admin.url()}: ${error.message}`));
    await admin.goto(`${base}/signin`);
    await admin.waitForSelector('body[data-hydrated]');
    await signIn(admin, 'admin@lambdaport.local', adminPassword);
    await admin.waitForURL(`${base}/`);
    await admin.goto(`${base}/admin`);
    await admin.waitForSelector('body[data-hydrated]');
    await admin.getByLabel('Email').fill('learner@example.com');
    await admin.getByLabel('Role', { exact: true }).selectOption('learner');
    await admin.getByRole('button', { name: 'Add user' }).click();
    const created = admin.getByRole('status').filter({ hasText: 'One-time password' });
    await created.waitFor();
    learnerPassword = (await created.textContent()).match(/One-time password: (\S+)/)[1];

    page = await (await browser.newContext()).newPage();
    page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
    await page.goto(`${base}/signin`);
    await page.waitForSelector('body[data-hydrated]');
    await signIn(page, 'learner@example.com', learnerPassword);
    await page.waitForURL(`${base}/`);
  });

  it('runs the whole lab as a newcomer, then cleans up everything it made', async () => {
    await page.goto(`${base}/create`);
    await page.waitForSelector('body[data-hydrated]');
    assert.match(await page.getByLabel('Connection and region', { exact: true }).inputValue(), /\|us-east-1$/);
    assert.equal(await page.getByLabel('Clean up automatically after (hours)').inputValue(), '24', 'learners expire in 24 h');
    await page.getByRole('button', { name: 'Start the lab' }).click();
    await page.waitForURL(/\/labs\/[0-9a-f-]+$/);
    const labUrl = page.url();
    await page.getByRole('heading', { name: 'Step 2: Create the function' }).waitFor();

    // The name is checked as it is typed.
    const name = page.getByLabel('Function name');
    await name.fill('bad name!');
    await page.getByText('Use only letters, digits, hyphens and underscores').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Create function' }).isDisabled(), true);
    await name.fill('e2e-lab');
    await page.screenshot({ path: join(process.env.E2E_ARTIFACTS ?? tmpdir(), 'lab-step-2.png'), fullPage: true });
    await fitsPhone(page, 'step 2');
    await page.getByLabel('Tags').fill('course=intro');
    // Enter in the name field submits, as in any form, without a page error (the global check).
    await name.press('Enter');
    await page.getByRole('heading', { name: 'Step 3: Add the code' }).waitFor({ timeout: 30_000 });

    // The dashboard warns that the run will be cleaned up, and the run resumes where it was left.
    await page.goto(`${base}/`);
    await page.getByTestId('expiring').getByRole('link', { name: 'e2e-lab' }).click();
    await page.getByRole('heading', { name: 'Step 3: Add the code' }).waitFor();

    assert.match(await page.getByLabel('lambda_function.py (the handler\'s file)').inputValue(), /"statusCode": 200/);
    await fitsPhone(page, 'step 3');
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.getByRole('heading', { name: 'Step 4: Timeout and memory' }).waitFor({ timeout: 30_000 });

    // Back to step 3 for the other way in: a zip upload (a plain form post) returns to the lab.
    await page.getByRole('link', { name: '3. Add the code' }).click();
    await page.getByLabel('Deployment package (.zip, up to 50 MB)').setInputFiles({
      name: 'lab.zip', mimeType: 'application/zip',
      buffer: zipOf(await page.getByLabel('lambda_function.py (the handler\'s file)').inputValue()),
    });
    await page.getByRole('button', { name: 'Upload and deploy' }).click();
    await page.getByRole('status').filter({ hasText: 'Code uploaded' }).waitFor({ timeout: 30_000 });
    await page.getByRole('heading', { name: 'Step 4: Timeout and memory' }).waitFor();
    // The upload was a plain form post: the page is new, and reacts to typing once hydrated.
    await page.waitForSelector('body[data-hydrated]');

    assert.equal(await page.getByLabel('Timeout (seconds)').inputValue(), '3');
    assert.equal(await page.getByLabel('Memory (MB)').inputValue(), '128');
    await fitsPhone(page, 'step 4');
    await page.getByTestId('cost').getByText('At 128 MB, a million invocations of 100 ms cost $0.41').waitFor();
    await page.getByLabel('Memory (MB)').fill('256');
    await page.getByTestId('cost').getByText('At 256 MB').waitFor();
    await page.getByLabel('Memory (MB)').fill('128');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('heading', { name: 'Step 5: Function URL' }).waitFor({ timeout: 30_000 });
    assert.equal(await page.getByText('Code uploaded').count(), 0, 'the upload\'s message stayed on its page');

    assert.equal(await page.getByLabel('NONE — public, for this lab only').isChecked(), true);
    await page.getByRole('button', { name: 'Create function URL' }).click();
    await page.getByRole('heading', { name: 'Step 6: Call it' }).waitFor({ timeout: 30_000 });
    const curl = await page.getByLabel('From your terminal').inputValue();
    assert.match(curl, /^curl -i "http:\/\/[a-z0-9]+\.lambda-url\.us-east-1\.localhost:\d+\/"$/);

    // Back to step 5: the two statements, explained.
    await page.getByRole('link', { name: '5. Function URL' }).click();
    await page.getByText('Anyone on the internet can call this URL.').waitFor();
    await page.screenshot({ path: join(process.env.E2E_ARTIFACTS ?? tmpdir(), 'lab-step-5.png'), fullPage: true });
    assert.equal(await page.locator('pre.json').count(), 2);
    await fitsPhone(page, 'step 5');
    await page.getByRole('link', { name: '6. Call it' }).click();

    // The newcomer's mistake: the role loses its logging policy before the first call. As on
    // AWS, the function still answers, and writes no logs.
    const configuration = await (await fetch(`${engine}/2015-03-31/functions/e2e-lab`)).json();
    const roleName = configuration.Configuration.Role.split('/').pop();
    const detached = await fetch(`${engine}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        Action: 'DetachRolePolicy', Version: '2010-05-08', RoleName: roleName,
        PolicyArn: 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
      }),
    });
    assert.ok(detached.ok, await detached.text());

    const send = page.getByRole('button', { name: 'Send the request from the server' });
    await send.click();
    const raw = page.getByTestId('raw-response');
    await raw.waitFor({ timeout: 30_000 });
    await page.screenshot({ path: join(process.env.E2E_ARTIFACTS ?? tmpdir(), 'lab-step-6.png'), fullPage: true });
    assert.match(await raw.textContent(), /^HTTP\/1\.1 200 OK\n[\s\S]*content-type: text\/plain; charset=utf-8[\s\S]*\n\nok\n$/);
    await fitsPhone(page, 'step 6');

    await page.getByRole('link', { name: 'Next: the logs' }).click();
    await page.getByRole('heading', { name: 'Step 7: Logs' }).waitFor();
    await page.getByText('No log stream in /aws/lambda/e2e-lab yet').waitFor();
    await page.getByRole('button', { name: 'I found my invocation: next' }).click();
    const diagnosis = page.getByTestId('diagnosis');
    await diagnosis.getByText('the execution role has no logging permissions').waitFor({ timeout: 30_000 });
    await diagnosis.getByRole('button', { name: 'Attach AWSLambdaBasicExecutionRole to the role' }).click();
    // The fix shows: the red diagnosis gives way to what was done and what to do next.
    await page.getByTestId('fixed').getByText('AWSLambdaBasicExecutionRole is attached').waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId('diagnosis').count(), 0, 'the diagnosis is gone once fixed');
    assert.equal(await page.getByTestId('last-failure').getAttribute('data-resolved'), 'false');
    // Only invocations from now on are logged: call again, then the logs are there.
    await page.getByRole('link', { name: '6. Call it' }).click();
    await send.click();
    await page.getByRole('link', { name: 'Next: the logs' }).click({ timeout: 30_000 });
    await page.getByRole('heading', { name: 'Step 7: Logs' }).waitFor();
    const lines = page.getByTestId('log-lines');
    await lines.getByText(/^START RequestId: /).waitFor();
    await lines.getByText(/^REPORT RequestId: /).waitFor();
    await lines.getByText('What it cost: duration').first().waitFor();
    await page.screenshot({ path: join(process.env.E2E_ARTIFACTS ?? tmpdir(), 'lab-step-7.png'), fullPage: true });
    await fitsPhone(page, 'step 7');
    await page.getByRole('button', { name: 'I found my invocation: next' }).click();
    await page.getByRole('link', { name: 'Next: validation' }).click();
    // The problem in the header is marked put right once the step passed.
    await page.locator('[data-testid="last-failure"][data-resolved="true"]').waitFor();

    await page.getByRole('button', { name: 'Run the checks' }).click();
    const checklist = page.getByTestId('checklist');
    await checklist.waitFor({ timeout: 30_000 });
    assert.equal(await checklist.locator('li.check-ok').count(), 5, await checklist.textContent());
    await page.getByText('You completed the lab.').waitFor();
    // The checklist is kept: a reload (or a browser without JavaScript) shows the last one.
    await page.reload();
    await page.getByRole('heading', { name: 'Last checked' }).waitFor();
    assert.equal(await page.getByTestId('checklist').locator('li.check-ok').count(), 5);
    await page.screenshot({ path: join(process.env.E2E_ARTIFACTS ?? tmpdir(), 'lab-validation.png'), fullPage: true });
    await fitsPhone(page, 'step 8');
    await page.getByRole('link', { name: 'Next: clean up' }).click();

    await page.getByRole('heading', { name: 'Step 9: Clean up' }).waitFor();
    await fitsPhone(page, 'step 9');
    const ledger = page.getByTestId('ledger-row');
    assert.equal(await ledger.count(), 7, 'role, policy, function, URL, two statements, log group');
    const role = (await ledger.filter({ hasText: 'IAM role' }).locator('code').textContent()).trim();
    assert.deepEqual(labResourcesLeft('e2e-lab', role), { function: true, url: true, log_group: true, role: true });
    await page.getByLabel(/Delete these resources from Local/).check();
    await page.getByRole('button', { name: 'Delete and verify' }).click();
    await page.getByRole('status').filter({ hasText: 'Cleaned up: 7 deleted' }).waitFor({ timeout: 30_000 });
    assert.deepEqual(labResourcesLeft('e2e-lab', role), { function: false, url: false, log_group: false, role: false });
    await page.screenshot({ path: join(process.env.E2E_ARTIFACTS ?? tmpdir(), 'lab-step-9.png'), fullPage: true });

    // The run is listed as cleaned up, and resumes where it stands.
    await page.goto(`${base}/labs`);
    await page.getByTestId('my-runs').getByRole('link', { name: 'e2e-lab' }).waitFor();
    await page.getByText('Cleaned up', { exact: true }).waitFor();
    await page.goto(labUrl);
    await page.getByRole('heading', { name: 'Step 9: Clean up' }).waitFor();
    await page.getByTestId('start-new').waitFor();
    // Every step's URL still opens, read-only, with the way on.
    for (const step of [2, 5, 7]) {
      await page.goto(`${labUrl}?step=${step}`);
      await page.getByTestId('read-only').getByRole('link', { name: 'Start a new run' }).waitFor();
      assert.equal(await page.locator('form button[type="submit"]').filter({ hasNotText: 'Sign out' }).count(), 0, `step ${step} has no live button`);
    }
    assert.equal(await page.getByTestId('discard').count(), 0);

    // The main pages fit a phone too, and the navigation folds behind a menu there.
    for (const path of ['/', '/catalog', '/create', '/labs', '/profile']) {
      await page.goto(`${base}${path}`);
      await page.waitForSelector('body[data-hydrated]');
      await fitsPhone(page, path);
    }
    const size = page.viewportSize();
    await page.setViewportSize({ width: 375, height: 740 });
    const nav = page.getByRole('navigation', { name: 'Main' });
    assert.equal(await nav.isVisible(), false, 'folded on a phone');
    await page.getByRole('button', { name: 'Menu' }).click();
    await nav.getByRole('link', { name: 'Labs' }).click();
    await page.waitForURL(`${base}/labs`);
    assert.equal(await nav.isVisible(), false, 'folded again after choosing');
    await page.setViewportSize(size);
    assert.equal(await page.getByRole('button', { name: 'Menu' }).isVisible(), false, 'no menu button on a wide screen');
    await nav.getByRole('link', { name: 'Catalog' }).waitFor();
  });

  it('shows every learner\'s run on the instructor board', async () => {
    await admin.goto(`${base}/labs`);
    const board = admin.getByTestId('board');
    await board.getByRole('cell', { name: 'learner@example.com' }).waitFor();
    await board.getByText('9. Clean up').waitFor();
  });

  it('works without JavaScript: plain form posts, values in the server\'s HTML', async () => {
    const plain = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
    await plain.goto(`${base}/signin`);
    await signIn(plain, 'admin@lambdaport.local', adminPassword);
    await plain.waitForURL(`${base}/`);
    await plain.goto(`${base}/catalog?q=orders&owner=admin%40lambdaport.local`);
    assert.equal(await plain.getByLabel('Search').inputValue(), 'orders');
    assert.equal(await plain.getByLabel('Owner', { exact: true }).inputValue(), 'admin@lambdaport.local');

    await plain.goto(`${base}/create`);
    await plain.getByRole('button', { name: 'Start the lab' }).click();
    await plain.waitForURL(/\/labs\/[0-9a-f-]+$/);
    const run = plain.url();
    assert.equal(await plain.getByLabel('Function name').inputValue(), 'lambda-function-url-lab');
    await plain.getByLabel('Function name').fill('nojs-lab');
    await plain.getByRole('button', { name: 'Create function' }).click();
    await plain.getByRole('status').filter({ hasText: 'The function is created and Active' }).waitFor({ timeout: 30_000 });
    // The editor's text is in the server's HTML too: deploying it as is works.
    await plain.getByRole('button', { name: 'Deploy', exact: true }).click();
    await plain.getByRole('status').filter({ hasText: 'Code deployed' }).waitFor({ timeout: 30_000 });
    await plain.goto(`${run}?step=4`);
    assert.equal(await plain.getByLabel('Timeout (seconds)').inputValue(), '3');
    assert.equal(await plain.getByLabel('Memory (MB)').inputValue(), '128');
    await plain.getByRole('button', { name: 'Save settings' }).click();
    await plain.getByRole('heading', { name: 'Step 5: Function URL' }).waitFor({ timeout: 30_000 });
    await plain.getByRole('button', { name: 'Create function URL' }).click();
    await plain.getByRole('heading', { name: 'Step 6: Call it' }).waitFor({ timeout: 30_000 });
    // Step 6 stays on step 6 and shows the raw response, as the hydrated page does.
    await plain.getByRole('button', { name: 'Send the request from the server' }).click();
    await plain.getByRole('heading', { name: 'Step 6: Call it' }).waitFor({ timeout: 30_000 });
    assert.match(await plain.getByTestId('raw-response').textContent(), /^HTTP\/1\.1 200 OK\n[\s\S]*\n\nok\n$/);
    // Step 7's Reload reloads; the confirmation moves on with what it found.
    await plain.goto(`${run}?step=7`);
    await plain.getByRole('link', { name: 'Reload' }).click();
    await plain.getByTestId('log-lines').getByText(/^REPORT RequestId: /).waitFor();
    await plain.getByRole('button', { name: 'I found my invocation: next' }).click();
    await plain.getByRole('status').filter({ hasText: 'Found: your invocation is in the log.' }).waitFor({ timeout: 30_000 });
    await plain.getByRole('heading', { name: 'Step 8: Validation' }).waitFor();

    // The function page's cleanup ends on the catalog, which says the function is gone.
    await plain.goto(`${base}/catalog?q=nojs-lab`);
    await plain.getByRole('link', { name: 'nojs-lab', exact: true }).click();
    await plain.getByRole('link', { name: 'Cleanup' }).click();
    await plain.getByLabel('Delete what the console created for this function').check();
    await plain.getByRole('button', { name: 'Delete and verify' }).click();
    await plain.waitForURL(/\/catalog\?cleaned=nojs-lab$/, { timeout: 30_000 });
    await plain.getByTestId('cleaned').getByText('is gone').waitFor();
    await plain.getByRole('status').filter({ hasText: /deleted/ }).first().waitFor();
  });

  it('lets an admin change how long learners\' runs live', async () => {
    await admin.goto(`${base}/admin`);
    await admin.waitForSelector('body[data-hydrated]');
    await admin.getByLabel('Hours before learners\' lab runs are cleaned up').fill('48');
    await admin.getByRole('button', { name: 'Save expiry' }).click();
    await admin.getByRole('status').filter({ hasText: 'cleaned up 48 hour(s) after they start' }).waitFor();
    await page.goto(`${base}/create`);
    await page.waitForSelector('body[data-hydrated]');
    const expiry = page.getByLabel('Clean up automatically after (hours)');
    assert.equal(await expiry.inputValue(), '48');
    // The admin's expiry is the learner's maximum: more is refused, with why.
    await expiry.evaluate((input) => input.removeAttribute('max'));
    await expiry.fill('720');
    await page.getByRole('button', { name: 'Start the lab' }).click();
    await page.getByText('a learner\'s run lives at most 48 hour(s), as an admin set it').first().waitFor();
    assert.match(page.url(), /\/create/, 'no run was started');
  });

  it('discards a run at step 2, before it created anything', async () => {
    await page.goto(`${base}/create`);
    await page.waitForSelector('body[data-hydrated]');
    await page.getByLabel('Clean up automatically after (hours)').fill('2');
    await page.getByRole('button', { name: 'Start the lab' }).click();
    await page.getByRole('heading', { name: 'Step 2: Create the function' }).waitFor();
    await page.getByTestId('discard').click();
    await page.waitForURL(/step=9/);
    await page.getByLabel(/Discard this run/).check();
    await page.getByRole('button', { name: 'Discard the run' }).click();
    await page.locator('.page-head .badge').filter({ hasText: 'cleaned up' }).waitFor();
  });

  it('keeps what was typed when the session ends mid-step, and returns to it after signing in', async () => {
    await page.goto(`${base}/create`);
    await page.waitForSelector('body[data-hydrated]');
    await page.getByRole('button', { name: 'Start the lab' }).click();
    await page.getByRole('heading', { name: 'Step 2: Create the function' }).waitFor();
    await page.getByLabel('Function name').fill('draft-lab');
    await page.getByRole('button', { name: 'Create function' }).click();
    await page.getByRole('heading', { name: 'Step 3: Add the code' }).waitFor({ timeout: 30_000 });
    const step3 = page.url();
    const editor = page.getByLabel('lambda_function.py (the handler\'s file)');
    const typed = (await editor.inputValue()).replace('"ok', '"kept through a sign-in');
    await editor.fill(typed);

    // The session ends (signed out elsewhere, or expired): the step's action says so.
    await page.context().clearCookies();
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.getByRole('alert').getByRole('link', { name: 'Sign in again' }).click();
    await page.waitForURL(/\/signin\?next=/);
    await signIn(page, 'learner@example.com', learnerPassword);
    await page.waitForURL(step3);
    await page.getByTestId('draft-restored').waitFor();
    assert.equal(await editor.inputValue(), typed, 'the typed code is back');

    // Deployed, the draft is done with: a reload shows the saved code and no notice.
    await page.getByRole('button', { name: 'Deploy', exact: true }).click();
    await page.getByRole('heading', { name: 'Step 4: Timeout and memory' }).waitFor({ timeout: 30_000 });
    await page.goto(step3);
    await page.waitForSelector('body[data-hydrated]');
    assert.equal(await editor.inputValue(), typed, 'deployed as typed');
    assert.equal(await page.getByTestId('draft-restored').count(), 0);

    // Someone else's function uses the run's role: the function page's cleanup deletes the rest,
    // keeps the role and says why, and ends on the catalog, which says the function is gone.
    const made = await (await fetch(`${engine}/2015-03-31/functions/draft-lab`)).json();
    const borrowed = await fetch(`${engine}/2015-03-31/functions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        FunctionName: 'draft-borrower', Runtime: 'python3.12', Handler: 'lambda_function.lambda_handler',
        Role: made.Configuration.Role, Code: { ZipFile: zipOf("def lambda_handler(e, c):\n    return 'ok'\n").toString('base64') },
      }),
    });
    assert.equal(borrowed.status, 201, await borrowed.text());
    await page.goto(`${base}/catalog?q=draft-lab`);
    await page.getByRole('link', { name: 'draft-lab', exact: true }).click();
    await page.getByRole('link', { name: 'Cleanup' }).click();
    await page.waitForSelector('body[data-hydrated]');
    await page.getByLabel('Delete what the console created for this function').check();
    await page.getByRole('button', { name: 'Delete and verify' }).click();
    await page.waitForURL(/\/catalog\?cleaned=draft-lab$/, { timeout: 30_000 });
    await page.getByTestId('cleaned').getByText('is gone').waitFor();
    const report = await page.getByRole('status').filter({ hasText: /deleted/ }).first().textContent();
    assert.match(report, /kept/i, report);
    assert.match(report, /draft-borrower/, report);
    await fetch(`${engine}/2015-03-31/functions/draft-borrower`, { method: 'DELETE' });
  });

  it('gives the instructor a board to filter, group, export, and reset a learner\'s run from', async () => {
    await page.goto(`${base}/create`);
    await page.waitForSelector('body[data-hydrated]');
    await page.getByRole('button', { name: 'Start the lab' }).click();
    await page.getByRole('heading', { name: 'Step 2: Create the function' }).waitFor();
    await page.getByLabel('Function name').fill('board-lab');
    await page.getByLabel('Tags').fill('course=intro');
    await page.getByRole('button', { name: 'Create function' }).click();
    await page.getByRole('heading', { name: 'Step 3: Add the code' }).waitFor({ timeout: 30_000 });

    await admin.goto(`${base}/labs`);
    await admin.waitForSelector('body[data-hydrated]');
    await admin.getByLabel('Course', { exact: true }).fill('intro');
    await admin.getByLabel('Status', { exact: true }).selectOption('in_progress');
    await admin.getByRole('button', { name: 'Apply' }).click();
    await admin.waitForURL(/course=intro/);
    const board = admin.getByTestId('board');
    const row = board.getByTestId('lab-run').filter({ hasText: 'board-lab' });
    await row.waitFor();
    assert.equal(await board.getByTestId('lab-run').count(), 1, 'only the course\'s run in progress');
    assert.match(await row.textContent(), /learner@example\.com.*intro/);
    await row.getByTestId('board-idle').getByText(/^\d+ min/).waitFor();
    await admin.goto(`${base}/labs?course=another`);
    await admin.getByText('No run matches these filters.').waitFor();
    await admin.goto(`${base}/labs?group=course&sort=learner`);
    await admin.getByRole('heading', { name: /^Course intro \(\d+\)$/ }).waitFor();

    // What the board shows, as CSV, for the instructor's records.
    const csv = await admin.request.get(`${base}/labs/board.csv?course=intro&status=in_progress`);
    assert.equal(csv.status(), 200);
    assert.match(csv.headers()['content-type'], /^text\/csv/);
    const lines = (await csv.text()).trim().split('\r\n');
    assert.match(lines[0], /^"learner","course","function","step","status"/);
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(lines[1], /^"learner@example\.com","intro","board-lab",3,"in_progress"/);
    const refused = await page.request.get(`${base}/labs/board.csv`);
    assert.equal(refused.status(), 403, 'learners cannot export the board');

    // Reset: what the run made is deleted, and the learner starts again at step 2.
    await admin.goto(`${base}/labs?course=intro`);
    await admin.getByTestId('board').getByRole('link', { name: 'board-lab' }).click();
    await admin.getByTestId('instructor').locator('summary').click();
    await admin.getByLabel(/Reset this run/).check();
    await admin.getByRole('button', { name: 'Reset the run' }).click();
    await admin.getByRole('status').filter({ hasText: 'Reset: the run is back at step 2.' }).waitFor({ timeout: 30_000 });
    await admin.getByRole('heading', { name: 'Step 2: Create the function' }).waitFor();
    const gone = await fetch(`${engine}/2015-03-31/functions/board-lab`);
    assert.equal(gone.status, 404, 'the function is deleted');
    await page.reload();
    await page.getByRole('heading', { name: 'Step 2: Create the function' }).waitFor();
    // The learner discards it, leaving nothing behind.
    await page.getByTestId('discard').click();
    await page.getByLabel(/Discard this run/).check();
    await page.getByRole('button', { name: 'Discard the run' }).click();
    await page.locator('.page-head .badge').filter({ hasText: 'cleaned up' }).waitFor();
  });
});

// Last: its rules would refuse what the earlier lab runs create. It deletes them at the end.
describe('governance', () => {
  let admin;

  before(async () => {
    admin = await (await browser.newContext()).newPage();
    admin.on('pageerror', (error) => pageErrors.push(`${admin.url()}: ${error.message}`));
    await admin.goto(`${base}/signin`);
    await admin.waitForSelector('body[data-hydrated]');
    await signIn(admin, 'admin@lambdaport.local', adminPassword);
    await admin.waitForURL(`${base}/`);
  });

  it('adds rules with the fields each kind reads, and lists a violating shadow after a sync', async () => {
    await admin.goto(`${base}/governance`);
    await admin.waitForSelector('body[data-hydrated]');
    await admin.getByTestId('no-rules').waitFor();
    const kind = admin.getByLabel('What it checks');
    await kind.selectOption('required_tag');
    await admin.getByLabel('Severity').selectOption('error');
    await admin.getByLabel('Tag key').fill('cost-center');
    await admin.getByLabel(/^Allowed values/).fill('cc-1, cc-2');
    await admin.getByLabel(/^Why/).fill('Finance charges back by cost-center');
    await admin.getByRole('button', { name: 'Add rule' }).click();
    await admin.getByRole('status').filter({ hasText: 'Rule added: Every function has the tag cost-center, one of cc-1, cc-2.' }).waitFor();

    // Another kind shows its own fields only.
    await kind.selectOption('public_url');
    assert.equal(await admin.getByLabel('Tag key').isVisible(), false, 'a URL rule has no tag key');
    await admin.getByLabel('Public URLs are').selectOption('outside_production');
    await admin.getByRole('button', { name: 'Add rule' }).click();
    await admin.getByRole('status').filter({ hasText: 'Rule added: Public Function URLs only outside production' }).waitFor();

    // A pattern that does not compile is refused on its field, and nothing is added.
    await kind.selectOption('naming');
    assert.equal(await admin.getByLabel('Minimum').isVisible(), false, 'a naming rule has no bounds');
    await admin.getByLabel(/^Pattern/).fill('team-(');
    await admin.getByRole('button', { name: 'Add rule' }).click();
    await admin.locator('#rule-pattern-error').filter({ hasText: 'not a valid pattern: unclosed group' }).waitFor();
    const rules = admin.getByRole('region', { name: 'Rules' }).locator('tbody tr');
    await rules.nth(1).waitFor();
    assert.equal(await rules.count(), 2);
    assert.match(await rules.nth(0).textContent(), /Security Hub Lambda\.6/);
    await admin.screenshot({ path: join(process.env.E2E_ARTIFACTS ?? tmpdir(), 'governance.png'), fullPage: true });
    await fitsPhone(admin, 'governance');

    // A function made outside the console without the tag arrives as a shadow with a sync, and
    // is listed with what it breaks and the fix.
    await createEngineFunction('e2e-untagged', { team: 'payments' });
    await admin.goto(`${base}/catalog`);
    const local = admin.getByTestId('connection').filter({ hasText: 'Local' });
    await local.getByRole('button', { name: 'Sync now' }).click();
    await admin.getByRole('status').filter({ hasText: 'Synced Local' }).waitFor();
    await admin.goto(`${base}/governance`);
    await admin.getByRole('link', { name: 'Violations' }).click();
    await admin.waitForURL(`${base}/governance/violations`);
    const row = admin.getByTestId('violations-table').getByRole('row').filter({ hasText: 'e2e-untagged' });
    await row.getByText('The tag cost-center is missing.').waitFor();
    await row.getByText('Add the tag cost-center with one of: cc-1, cc-2.').waitFor();
    await row.getByText('shadow', { exact: true }).waitFor();
    // The trend ends with today, counted now, the same number as the total above it.
    const total = (await admin.getByTestId('violation-total').textContent()).match(/^(\d+) function/)[1];
    const today = admin.getByTestId('violation-trend').getByRole('row').nth(1);
    await today.getByRole('cell', { name: new Date().toISOString().slice(0, 10) }).waitFor();
    assert.equal(await today.getByRole('cell').nth(1).textContent(), total);
    // Narrowed to the rule by following its count.
    await admin.getByRole('link', { name: 'Every function has the tag cost-center, one of cc-1, cc-2.' }).click();
    await admin.waitForURL(/\/governance\/violations\?rule=/);
    await admin.getByRole('heading', { name: /^Functions breaking: Every function has the tag/ }).waitFor();
    await admin.screenshot({ path: join(process.env.E2E_ARTIFACTS ?? tmpdir(), 'violations.png'), fullPage: true });
    await fitsPhone(admin, 'violations');
  });

  it('takes a request for an exception on the function page, approved by another admin, then shown as excepted', async () => {
    // A second admin to decide: nobody decides on their own request.
    await admin.goto(`${base}/admin`);
    await admin.waitForSelector('body[data-hydrated]');
    await admin.getByLabel('Email').fill('approver@example.com');
    await admin.getByLabel('Role', { exact: true }).selectOption('admin');
    await admin.getByRole('button', { name: 'Add user' }).click();
    const created = admin.getByRole('status').filter({ hasText: 'One-time password' });
    await created.waitFor();
    const approverPassword = (await created.textContent()).match(/One-time password: (\S+)/)[1];

    // e2e-orders (imported earlier) has no cost-center tag: its Overview says so, with a request form.
    await admin.goto(`${base}/catalog?q=e2e-orders`);
    await admin.getByTestId('catalog-row').getByRole('link', { name: 'e2e-orders' }).click();
    const badge = admin.getByTestId('breaks-rules');
    await badge.waitFor();
    // Its lifecycle is production and it has a public URL: that may be a second broken rule.
    const broken = Number((await badge.textContent()).match(/breaks (\d+) rule/)[1]);
    const findings = admin.getByTestId('findings');
    const tagFinding = findings.getByRole('listitem').filter({ hasText: 'The tag cost-center is missing.' });
    await tagFinding.getByText('Request an exception').click();
    await tagFinding.getByLabel('Why this function needs one').fill('billing moves to the new cost centres next sprint');
    await tagFinding.getByLabel(/^For how many hours/).fill('48');
    await tagFinding.getByRole('button', { name: 'Request exception' }).click();
    await admin.getByRole('status').filter({ hasText: 'Exception requested' }).waitFor();
    await admin.getByTestId('exceptions').getByText('pending').waitFor();

    const approver = await (await browser.newContext()).newPage();
    approver.on('pageerror', (error) => pageErrors.push(`${approver.url()}: ${error.message}`));
    await approver.goto(`${base}/signin`);
    await approver.waitForSelector('body[data-hydrated]');
    await signIn(approver, 'approver@example.com', approverPassword);
    await approver.waitForURL(/\/(profile)?$/);
    await approver.goto(`${base}/governance/violations`);
    await approver.waitForSelector('body[data-hydrated]');
    const request = approver.getByTestId('exceptions').getByRole('row').filter({ hasText: 'e2e-orders' });
    await request.getByText('billing moves to the new cost centres next sprint').waitFor();
    await request.getByLabel(/^Comment on/).fill('fine until the migration');
    await request.getByLabel('Approve').check();
    await request.getByRole('button', { name: 'Decide' }).click();
    await approver.getByRole('status').filter({ hasText: 'Exception approved' }).waitFor();
    await approver.getByTestId('exceptions').getByText(/^approved until /).waitFor();

    // Back on the function: the finding is excepted, and no longer counted as a broken rule.
    await admin.reload();
    await admin.getByTestId('findings').getByRole('listitem').filter({ hasText: 'The tag cost-center is missing.' })
      .getByText('excepted', { exact: true }).waitFor();
    if (broken === 1) {
      assert.equal(await badge.count(), 0, 'an excepted finding is not a broken rule');
    } else {
      assert.equal(await badge.textContent(), `breaks ${broken - 1} rule${broken - 1 === 1 ? '' : 's'}`);
    }
    await admin.getByTestId('exceptions').getByText('approver@example.com: fine until the migration').waitFor();
  });

  it("shows a developer's Create form breaking both rules as they type, then creates the function once fixed", async () => {
    await admin.goto(`${base}/admin`);
    await admin.waitForSelector('body[data-hydrated]');
    await admin.getByLabel('Email').fill('builder@example.com');
    await admin.getByLabel('Role', { exact: true }).selectOption('developer');
    await admin.getByRole('button', { name: 'Add user' }).click();
    const created = admin.getByRole('status').filter({ hasText: 'One-time password' });
    await created.waitFor();
    const password = (await created.textContent()).match(/One-time password: (\S+)/)[1];

    const dev = await (await browser.newContext()).newPage();
    dev.on('pageerror', (error) => pageErrors.push(`${dev.url()}: ${error.message}`));
    await dev.goto(`${base}/signin`);
    await dev.waitForSelector('body[data-hydrated]');
    await signIn(dev, 'builder@example.com', password);
    await dev.waitForURL(/\/(profile)?$/);
    await dev.goto(`${base}/create`);
    await dev.getByRole('link', { name: 'Create a function on one page' }).click();
    await dev.waitForURL(`${base}/create/function`);
    await dev.waitForSelector('body[data-hydrated]');

    // Untagged, production, public: both rules say so as it is typed, and it cannot be submitted.
    await dev.getByLabel('Function name').fill('e2e-one-page');
    await dev.getByLabel('Environment').selectOption('prod');
    await dev.getByLabel(/NONE: public/).check();
    const findings = dev.getByTestId('create-findings');
    await findings.getByText('The tag cost-center is missing.').waitFor();
    await findings.getByText(/Public Function URLs are not allowed in production/).waitFor();
    const submit = dev.getByTestId('create-submit');
    assert.equal(await submit.isDisabled(), true, 'an error-level rule keeps the form from being sent');
    assert.equal(await dev.getByLabel('Tags').getAttribute('aria-invalid'), 'true');
    // Each broken rule is said under its own field too, with its fix.
    await dev.locator('#create-tags-rules').getByText(/Add the tag cost-center/).waitFor();
    await dev.locator('#create-auth-rules').getByText(/not allowed in production/).waitFor();
    await dev.screenshot({ path: join(process.env.E2E_ARTIFACTS ?? tmpdir(), 'create-refused.png'), fullPage: true });
    await fitsPhone(dev, 'create');

    // Fixed: the tag, a signed URL; with more memory.
    await dev.getByLabel('Tags').fill('cost-center=cc-1');
    await dev.getByLabel(/AWS_IAM: callers/).check();
    await dev.getByLabel('Memory (MB)').fill('256');
    await findings.getByText('Passes every rule.').waitFor();
    await submit.click();
    await dev.waitForURL(/\/catalog\/[0-9a-f-]+$/, { timeout: 60_000 });
    await dev.getByRole('heading', { name: 'e2e-one-page' }).waitFor();

    // In the engine, as asked.
    const config = await (await fetch(`${engine}/2015-03-31/functions/e2e-one-page/configuration`)).json();
    assert.equal(config.MemorySize, 256);
    const tags = await (await fetch(`${engine}/2017-03-31/tags/${encodeURIComponent(config.FunctionArn)}`)).json();
    assert.equal(tags.Tags['cost-center'], 'cc-1');
    assert.equal(tags.Tags['lambdaport:environment'], 'prod');
    const url = await (await fetch(`${engine}/2021-10-31/functions/e2e-one-page/url`)).json();
    assert.equal(url.AuthType, 'AWS_IAM');

    // Its Cleanup tab deletes everything the form made.
    await dev.getByRole('link', { name: 'Cleanup' }).click();
    await dev.getByLabel('Delete what the console created for this function').check();
    await dev.getByRole('button', { name: 'Delete and verify' }).click();
    await dev.waitForURL(/\/catalog\?cleaned=e2e-one-page$/, { timeout: 30_000 });
    const gone = await fetch(`${engine}/2015-03-31/functions/e2e-one-page/configuration`);
    assert.equal(gone.status, 404);
  });

  it('prices the invocations made here on the Cost page and in its CSV', async () => {
    await createEngineFunction('e2e-priced', { 'lambdaport:team': 'payments' });
    for (let i = 0; i < 3; i++) {
      const answer = await fetch(`${engine}/2015-03-31/functions/e2e-priced/invocations`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}',
      });
      assert.equal(answer.status, 200);
    }
    await admin.goto(`${base}/catalog`);
    await admin.waitForSelector('body[data-hydrated]');
    await admin.getByTestId('connection').filter({ hasText: 'Local' }).getByRole('button', { name: 'Sync now' }).click();
    await admin.getByRole('status').filter({ hasText: 'Synced Local' }).waitFor();
    await admin.goto(`${base}/governance`);
    await admin.getByRole('link', { name: 'Cost', exact: true }).click();
    await admin.waitForURL(`${base}/governance/cost`);
    const row = admin.getByTestId('cost-functions').getByRole('row').filter({ hasText: 'e2e-priced' });
    await row.getByRole('cell', { name: '3', exact: true }).waitFor();
    await admin.getByTestId('cost-monthly').getByText('$0.00').waitFor();
    await admin.screenshot({ path: join(process.env.E2E_ARTIFACTS ?? tmpdir(), 'cost.png'), fullPage: true });
    await fitsPhone(admin, 'cost');

    // The export: 3 requests at $0.20 a million plus GB-seconds at x86_64's rate.
    const csv = await (await admin.request.get(`${base}/governance/cost.csv`)).text();
    const header = csv.split('\r\n')[0].split(',').map((h) => h.replaceAll('"', ''));
    const line = csv.split('\r\n').find((l) => l.startsWith('"e2e-priced"'));
    assert.ok(line, csv);
    const cells = Object.fromEntries(line.split(',').map((v, i) => [header[i], v.replaceAll('"', '')]));
    assert.equal(cells.requests, '3');
    assert.equal(cells.memory_mb, '128');
    // Its one cold start's INIT phase, read from its REPORT line, is billed too.
    assert.ok(Number(cells.init_cost_usd) > 0, 'a cold start has an INIT phase');
    const expected = 3 * 0.0000002 + Number(cells.gb_seconds) * 0.0000166667 + Number(cells.init_cost_usd);
    assert.ok(Math.abs(Number(cells.cost_usd) - expected) < 0.00000001, `${cells.cost_usd} vs ${expected}`);
    assert.ok(Number(cells.gb_seconds) > 0, 'the invocations took time');
  });

  it('refuses a public URL for a production function in the lab, and takes an AWS_IAM one', async () => {
    await admin.goto(`${base}/create`);
    await admin.waitForSelector('body[data-hydrated]');
    await admin.getByRole('button', { name: 'Start the lab' }).click();
    await admin.waitForURL(/\/labs\/[0-9a-f-]+$/);
    const labUrl = admin.url();
    await admin.getByLabel('Function name').fill('e2e-prod');
    await admin.getByLabel('Environment').selectOption('prod');
    // Without the required tag, step 2 is refused with the fix.
    await admin.getByRole('button', { name: 'Create function' }).click();
    await admin.getByRole('alert').filter({ hasText: 'The tag cost-center is missing.' }).waitFor({ timeout: 30_000 });
    await admin.getByLabel('Tags').fill('cost-center=cc-1');
    await admin.getByRole('button', { name: 'Create function' }).click();
    await admin.getByRole('heading', { name: 'Step 3: Add the code' }).waitFor({ timeout: 30_000 });
    await admin.getByRole('button', { name: 'Deploy', exact: true }).click();
    await admin.getByRole('heading', { name: 'Step 4: Timeout and memory' }).waitFor({ timeout: 30_000 });
    await admin.getByRole('button', { name: 'Save settings' }).click();
    await admin.getByRole('heading', { name: 'Step 5: Function URL' }).waitFor({ timeout: 30_000 });
    await admin.getByLabel('NONE — public, for this lab only').check();
    await admin.getByRole('button', { name: 'Create function URL' }).click();
    await admin.getByRole('alert').filter({ hasText: 'Public Function URLs are not allowed in production' }).waitFor({ timeout: 30_000 });
    const url = await fetch(`${engine}/2021-10-31/functions/e2e-prod/url`);
    assert.equal(url.status, 404, 'no URL was made');
    await admin.getByLabel('AWS_IAM — only SigV4-signed requests').check();
    await admin.getByRole('button', { name: 'Create function URL' }).click();
    await admin.getByRole('heading', { name: 'Step 6: Call it' }).waitFor({ timeout: 30_000 });

    await admin.goto(`${labUrl}?step=9`);
    await admin.getByLabel(/Delete these resources from Local/).check();
    await admin.getByRole('button', { name: 'Delete and verify' }).click();
    await admin.getByRole('status').filter({ hasText: /Cleaned up: \d+ deleted/ }).waitFor({ timeout: 30_000 });

    // The rules go, and the page says there are none.
    await admin.goto(`${base}/governance`);
    await admin.waitForSelector('body[data-hydrated]');
    for (let left = 2; left > 0; left--) {
      const first = admin.getByRole('region', { name: 'Rules' }).locator('tbody tr').first();
      await first.getByLabel('Confirm').check();
      await first.getByRole('button', { name: /^Delete:/ }).click();
      await admin.waitForFunction(
        (n) => document.querySelectorAll('section[aria-labelledby="rules-heading"] tbody tr').length === n,
        left - 1,
      );
    }
    await admin.getByTestId('no-rules').waitFor();
  });

  it('switches off a public URL at its expiry, checked with the SDK, and tells the owner on the dashboard', async () => {
    await createEngineFunction('e2e-expiring', { 'lambdaport:owner': 'admin@lambdaport.local' });
    await admin.goto(`${base}/catalog`);
    await admin.waitForSelector('body[data-hydrated]');
    await admin.getByTestId('connection').filter({ hasText: 'Local' }).getByRole('button', { name: 'Sync now' }).click();
    await admin.getByRole('status').filter({ hasText: 'Synced Local' }).waitFor();
    await admin.goto(`${base}/catalog?view=shadows`);
    await admin.getByTestId('catalog-row').filter({ hasText: 'e2e-expiring' }).getByRole('button', { name: 'Import' }).click();
    await admin.getByRole('status').filter({ hasText: 'Imported into the catalog' }).waitFor();
    await admin.goto(`${base}/catalog?q=e2e-expiring`);
    await admin.getByTestId('catalog-row').getByRole('link', { name: 'e2e-expiring' }).click();
    await admin.getByRole('heading', { name: 'e2e-expiring' }).waitFor();
    await admin.getByRole('navigation', { name: 'Function' }).getByRole('link', { name: 'URL', exact: true }).click();
    await admin.waitForURL(/\/url$/);
    await admin.waitForSelector('body[data-hydrated]');
    await admin.getByLabel(/^ ?NONE/).check();
    await admin.getByLabel(/Switch off a public URL after/).fill('1');
    await admin.getByRole('button', { name: 'Create the URL' }).click();
    await admin.getByRole('status').filter({ hasText: 'URL saved' }).waitFor();
    assert.deepEqual(urlState('e2e-expiring'), { auth: 'NONE', public: ['FunctionURLAllowInvokeAction', 'FunctionURLAllowPublicAccess'] });

    // A minute is long for a test: the expiry is moved to now, and the sweeper (every 2 s here)
    // switches the URL to AWS_IAM and takes its public statements away.
    execFileSync('psql', [process.env.E2E_DATABASE_URL, '-qc',
      "update catalog_function set url_expires_at = now() where name = 'e2e-expiring'"]);
    let state;
    for (let tries = 0; tries < 40; tries++) {
      state = urlState('e2e-expiring');
      if (state.auth === 'AWS_IAM') break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.deepEqual(state, { auth: 'AWS_IAM', public: [] });
    await admin.goto(`${base}/`);
    await admin.getByRole('heading', { name: 'Public URLs switched off' }).waitFor();
    await admin.getByTestId('expired-urls').getByRole('link', { name: 'e2e-expiring' }).waitFor();
  });

  it('finds a log group whose function is gone and deletes it after a confirmation', async () => {
    const created = await fetch(`${engine}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Logs_20140328.CreateLogGroup' },
      body: JSON.stringify({ logGroupName: '/aws/lambda/e2e-long-gone' }),
    });
    assert.ok(created.ok, await created.text());
    await admin.goto(`${base}/governance`);
    await admin.getByRole('link', { name: 'Look for orphan log groups and roles' }).click();
    await admin.waitForURL(`${base}/governance/orphans`);
    await admin.waitForSelector('body[data-hydrated]');
    const row = admin.getByTestId('orphans').getByRole('row').filter({ hasText: '/aws/lambda/e2e-long-gone' });
    await row.waitFor();
    await row.getByLabel('Confirm').check();
    await row.getByRole('button', { name: 'Delete /aws/lambda/e2e-long-gone' }).click();
    await admin.getByRole('status').filter({ hasText: 'Deleted /aws/lambda/e2e-long-gone' }).waitFor();
    await row.waitFor({ state: 'detached' });
    const left = await (await fetch(`${engine}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Logs_20140328.DescribeLogGroups' },
      body: JSON.stringify({ logGroupNamePrefix: '/aws/lambda/e2e-long-gone' }),
    })).json();
    assert.deepEqual(left.logGroups, [], 'the cloud no longer lists it');
  });
});

/** The Function URL's auth type and the public statements of a function, through boto3. */
function urlState(name) {
  return JSON.parse(execFileSync('python3', ['-c', [
    'import boto3, json, sys',
    'endpoint, name = sys.argv[1:3]',
    'kw = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")',
    'lam = boto3.client("lambda", **kw)',
    'auth = lam.get_function_url_config(FunctionName=name)["AuthType"]',
    'try:',
    '    statements = json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]',
    'except lam.exceptions.ResourceNotFoundException:',
    '    statements = []',
    'public = sorted(s["Sid"] for s in statements if s.get("Principal") == "*")',
    'print(json.dumps({"auth": auth, "public": public}))',
  ].join('\n'), engine, name]).toString());
}
