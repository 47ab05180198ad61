// The console as a person uses it: Debian's Chromium, driven by playwright-core, against the real
// `lambdaport` binary on a fresh database. Run by scripts/test, which builds the binary and the site
// and sets LAMBDAPORT_BIN, LAMBDAPORT_SITE_ROOT and E2E_DATABASE_URL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
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
  const server = spawn(process.env.LAMBDAPORT_BIN, ['serve', '--listen', '127.0.0.1:0', '--no-engine'], {
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
      if (password && url) {
        clearTimeout(timer);
        resolve({ server, url, password });
      }
    });
  });
}

let server, base, adminPassword, browser;

before(async () => {
  ({ server, url: base, password: adminPassword } = await startServer());
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
});

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
    page.on('pageerror', (error) => console.error('page error:', error));
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
    assert.equal(await nav.getByRole('link', { name: 'Admin' }).count(), 0);
    await page.goto(`${base}/admin`);
    await page.getByRole('alert').filter({ hasText: 'permission' }).waitFor();
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
});
