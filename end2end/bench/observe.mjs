// Benchmarks what the Test and Logs tabs add, in Chromium against a running console (see
// scripts/bench-observe, which starts it): a Test-tab invoke (the console's server function, which
// invokes through the SDK and records the result) against the engine's own Invoke of the same
// function and event, interleaved; and the live tail: how long after a handler prints a line (its
// own clock, in the line) the line is in an open Logs tab (the page's clock, same machine).
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const { BASE: base, ENGINE: engine, PASSWORD: password, FUNCTION_ID: id } = process.env;
const ROUNDS = Number(process.env.ROUNDS ?? 50);
const TAIL_LINES = Number(process.env.TAIL_LINES ?? 30);

const pct = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const summary = (values) => `p50 ${pct(values, 50).toFixed(1)} ms, p90 ${pct(values, 90).toFixed(1)} ms, p99 ${pct(values, 99).toFixed(1)} ms (n=${values.length})`;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = await browser.newPage();
await page.goto(`${base}/signin`);
await page.waitForSelector('body[data-hydrated]');
await page.getByLabel('Email').fill('admin@lambdaport.local');
await page.getByLabel('Password').fill(password);
await page.getByRole('button', { name: 'Sign in' }).click();
await page.waitForURL(`${base}/`);

// The Test tab's invoke against the engine's own, same function and event, interleaved.
const event = JSON.stringify({ bench: true });
const json = { 'content-type': 'application/json' };
const engineInvoke = async () => {
  const started = performance.now();
  const answer = await fetch(`${engine}/2015-03-31/functions/bench-observe/invocations`, { method: 'POST', headers: json, body: event });
  const text = await answer.text();
  assert.equal(answer.status, 200, text);
  return performance.now() - started;
};
const consoleInvoke = async () => {
  const started = performance.now();
  const answer = await page.request.post(`${base}/api/run_test_event`, {
    headers: { Accept: 'application/json', Origin: base },
    form: { function_id: id, intent: 'invoke', invocation_type: 'RequestResponse', payload: event },
  });
  assert.equal(answer.status(), 200, await answer.text());
  await answer.body();
  return performance.now() - started;
};
for (let i = 0; i < 5; i++) { await engineInvoke(); await consoleInvoke(); }
const own = [], tab = [];
for (let i = 0; i < ROUNDS; i++) {
  own.push(await engineInvoke());
  tab.push(await consoleInvoke());
}
console.log(`Invoke, warm, ${ROUNDS} interleaved rounds (the same function and event):`);
console.log(`  engine's own Invoke:        ${summary(own)}`);
console.log(`  Test tab (run_test_event):  ${summary(tab)}`);
console.log(`  console overhead at p50:    ${(pct(tab, 50) - pct(own, 50)).toFixed(1)} ms`);

// The live tail: from the handler's print to the line in the page.
await page.goto(`${base}/catalog/${id}/logs`);
await page.waitForSelector('body[data-hydrated]');
await page.evaluate(() => {
  window.__arrived = {};
  new MutationObserver(() => {
    for (const line of document.querySelectorAll('[data-testid=tail-line]')) {
      const found = line.textContent.match(/"marker": (\d+), "t": (\d+)/);
      if (found && !(found[1] in window.__arrived)) window.__arrived[found[1]] = Date.now() - Number(found[2]);
    }
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
});
const live = page.getByTestId('live-tail');
await live.getByLabel('Filter pattern').fill('marker');
await live.getByRole('button', { name: 'Start live tail' }).click();
await live.getByTestId('tail-status').filter({ hasText: 'Tailing' }).waitFor();
await new Promise((resolve) => setTimeout(resolve, 500));
const latencies = [];
for (let marker = 1; marker <= TAIL_LINES; marker++) {
  const answer = await fetch(`${engine}/2015-03-31/functions/bench-observe/invocations`, {
    method: 'POST', headers: json, body: JSON.stringify({ marker }),
  });
  assert.equal(answer.status, 200);
  await answer.arrayBuffer();
  await page.waitForFunction((m) => m in window.__arrived, marker, { timeout: 10_000 });
  latencies.push(await page.evaluate((m) => window.__arrived[m], marker));
  await new Promise((resolve) => setTimeout(resolve, 100));
}
console.log(`Live tail, ${TAIL_LINES} lines: handler's print → line in the page (Chromium): ${summary(latencies)}`);
await browser.close();
