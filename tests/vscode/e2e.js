// Drives code-server's VS Code workbench in Debian's Chromium through
// playwright-core (run by tests/vscode/run.sh, which installs the .vsix and
// starts code-server):
//   node e2e.js URL TAG ARTIFACTS_DIR [LOG_MARK]
//   (LOG_MARK: a line the build prints; E2E_BUILD_MS: how long it may take)
// Prints "ok - ..." / "not ok - ..." per check, "digest <short>" for the
// shell to compare with the registry, and keeps screenshots in
// ARTIFACTS_DIR.
'use strict';
const { chromium } = require('playwright-core');
const [url, tag, artifacts, logMark = 'hello from vscode 42'] = process.argv.slice(2);
const buildMs = Number(process.env.E2E_BUILD_MS || 240000);

let passed = 0;
let failed = 0;
function check(desc, cond, detail) {
  if (cond) { passed++; console.log(`ok - ${desc}`); }
  else { failed++; console.log(`not ok - ${desc}${detail ? ` (${detail})` : ''}`); }
}

async function shot(page, name) {
  const p = `${artifacts}/${name}.png`;
  await page.screenshot({ path: p }).catch(() => undefined);
  console.log(`# screenshot ${p}`);
}

async function quickInput(page, opener, text) {
  await page.keyboard.press(opener);
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 15000 });
  await input.fill(text);
}

async function openFile(page, name) {
  await quickInput(page, 'Control+P', name);
  // The row whose file name is exactly `name` (quick open matches fuzzily).
  const row = page.locator('.quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: exactly(name) }) }).first();
  await row.waitFor({ timeout: 30000 });
  await row.click();
  await page.waitForFunction((n) => {
    const l = document.querySelector('.tab.active .label-name');
    return l !== null && l.textContent.trim() === n;
  }, name, { timeout: 15000 });
  await page.waitForTimeout(500);
}

function exactly(text) {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}

// The row labelled exactly `title`: the palette matches fuzzily and puts
// recently used commands first ("Build Image" also finds "Build and Push
// Image").
async function runCommand(page, title) {
  await quickInput(page, 'F1', '>' + title);
  const row = page.locator('.quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: exactly(title) }) }).first();
  await row.waitFor({ timeout: 15000 });
  await row.click();
}

async function textOf(locator) {
  return (await locator.allInnerTexts().catch(() => [])).join('\n');
}

(async () => {
  const t0 = Date.now();
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--disable-dev-shm-usage'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  try {
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('.monaco-workbench', { timeout: 90000 });
    await page.locator('.explorer-folders-view .monaco-list-row').first()
      .waitFor({ timeout: 60000 });
    console.log(`# workbench ready after ${Date.now() - t0} ms`);

    // 1. A Dockerfile with a mistake: the squiggle and the Problems entry.
    await openFile(page, 'broken.Dockerfile');
    const mode = await textOf(page.locator('.statusbar-item[id="status.editor.mode"]'));
    check('broken.Dockerfile opens in the Dockerfile language', /Dockerfile/i.test(mode), mode.trim());
    const squiggle = page.locator('.editor-instance .squiggly-error');
    const sq = await squiggle.first().waitFor({ timeout: 30000 }).then(() => true, () => false);
    check('the mistake is underlined (error squiggle)', sq);
    await page.keyboard.press('Control+Shift+M');
    const marker = page.locator('.markers-panel .monaco-list-row', { hasText: 'containerPort' });
    const pm = await marker.first().waitFor({ timeout: 15000 }).then(() => true, () => false);
    const problems = await textOf(page.locator('.markers-panel .monaco-list-row'));
    check('the Problems panel lists it', pm && /InvalidPort|99999/.test(problems),
      problems.slice(0, 200));
    // settings.json turns ImageTagLatest off: workspace/configuration works.
    check('dockwright.rules reaches the server (no ImageTagLatest)',
      pm && !/ImageTagLatest/.test(problems), problems.slice(0, 300));
    const title = page.locator('.editor-actions .action-label[aria-label*="Build and Push Image"]');
    check('the editor title bar has "Build and Push Image"',
      await title.first().waitFor({ timeout: 5000 }).then(() => true, () => false));
    await shot(page, '1-diagnostics');

    // 2. Completion: our items (word-based suggestions are off in the
    // settings, and no other extension serves Dockerfiles).
    await page.locator('.editor-instance .view-lines').first().click();
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('RU');
    await page.keyboard.press('Control+Space');
    const item = page.locator('.suggest-widget .monaco-list-row', { hasText: 'RUN' });
    const sugg = await item.first().waitFor({ timeout: 10000 }).then(() => true, () => false);
    const rows = await textOf(page.locator('.suggest-widget .monaco-list-row'));
    check('completion offers RUN from the server', sugg, rows.replace(/\n/g, ' ').slice(0, 200));
    await shot(page, '2-completion');
    await page.keyboard.press('Escape');

    // 3. Build and Push Image: the tag from the input box, the progress
    // notification and its steps, the log, the status bar.
    await openFile(page, 'Dockerfile');
    await runCommand(page, 'Dockwright: Build and Push Image');
    const box = page.locator('.quick-input-widget input');
    await box.waitFor({ state: 'visible', timeout: 15000 });
    await box.fill(tag);
    await page.keyboard.press('Enter');
    const toast = page.locator('.notification-toast', { hasText: 'Building and pushing' });
    const shown = await toast.first().waitFor({ timeout: 30000 }).then(() => true, () => false);
    check('a progress notification appears', shown);
    const seen = new Set();
    let shotTaken = false;
    const doneRe = /pushed\s+([0-9a-f]{12})/;
    let digest = null;
    const until = Date.now() + buildMs;
    while (Date.now() < until) {
      const texts = await textOf(page.locator('.notification-toast'));
      for (const line of texts.split('\n')) if (line.trim()) seen.add(line.trim());
      if (!shotTaken && /\[\d+\/\d+\]/.test(texts)) {
        await shot(page, '3-progress');
        shotTaken = true;
      }
      const m = doneRe.exec(texts);
      if (m) { digest = m[1]; break; }
      if (/Show Log/.test(texts)) break; // the error message's button
      await page.waitForTimeout(150);
    }
    const steps = [...seen].filter((s) => /\[\d+\/\d+\]/.test(s));
    console.log(`# notification texts: ${JSON.stringify([...seen]).slice(0, 800)}`);
    check('the notification shows the build steps ([n/N] ...)', steps.length >= 1,
      JSON.stringify([...seen]).slice(0, 300));
    check('build and push succeeds', digest !== null, [...seen].slice(-3).join(' | '));
    console.log(`digest ${digest}`);
    const status = page.locator('.statusbar-item:has(.codicon-check)', { hasText: tag });
    const st = await status.first().waitFor({ timeout: 5000 }).then(() => true, () => false);
    check('the status bar shows the last build', st);
    await shot(page, '4-pushed');

    // The output view renders only the lines in sight: its filter box
    // brings the ones we look for into view.
    await runCommand(page, 'Dockwright: Show Build Log');
    const filter = page.locator('.panel input[placeholder="Filter"]').first();
    const lines = async (want) => {
      await filter.fill(want);
      return page.waitForFunction((w) => [...document.querySelectorAll('.panel .view-lines')]
        .some((e) => e.innerText.replace(/\u00a0/g, ' ').includes(w)), want, { timeout: 10000 })
        .then(() => true, () => false);
    };
    const hasFilter = await filter.waitFor({ timeout: 10000 }).then(() => true, () => false);
    // (42 only in what the RUN printed, not in the step's text)
    check('the Dockwright Build output channel has the build log',
      hasFilter && await lines(logMark), `filter box: ${hasFilter}`);
    check('... and each step\'s progress message', hasFilter && await lines('[progress] [2/'));
    await filter.fill('');
    await shot(page, '5-log');

    // 4. A failing RUN: the error message and the "dockwright build"
    // diagnostic on its line in the Problems panel.
    await openFile(page, 'fail.Dockerfile');
    await runCommand(page, 'Dockwright: Build Image');
    await box.waitFor({ state: 'visible', timeout: 15000 });
    await box.fill(`${tag}-fail`);
    await page.keyboard.press('Enter');
    const err = page.locator('.notification-toast', { hasText: 'exit code: 3' });
    check('a failing RUN ends in an error message',
      await err.first().waitFor({ timeout: 60000 }).then(() => true, () => false));
    await page.keyboard.press('Control+Shift+M');
    const buildDiag = page.locator('.markers-panel .monaco-list-row', { hasText: 'dockwright build' });
    const bd = await buildDiag.first().waitFor({ timeout: 15000 }).then(() => true, () => false);
    const bdText = await textOf(buildDiag);
    check('... and a "dockwright build" problem on the RUN line', bd && /Ln 2/.test(bdText),
      bdText.slice(0, 200));
    await shot(page, '6-failed');

    // 5. Cancel from the notification during a long RUN.
    await openFile(page, 'slow.Dockerfile');
    await runCommand(page, 'Dockwright: Build Image');
    await box.waitFor({ state: 'visible', timeout: 15000 });
    await box.fill(`${tag}-slow`);
    await page.keyboard.press('Enter');
    const slowToast = page.locator('.notification-toast', { hasText: 'RUN sleep 300' }).first();
    const building = page.locator('.notification-toast', { hasText: `Building ${tag}-slow` });
    const running = await slowToast.waitFor({ timeout: 60000 }).then(() => true, () => false);
    check('the long RUN shows in the notification', running);
    check('"Build Image" builds (and does not push)', await building.count() > 0);
    if (running) {
      const t1 = Date.now();
      await slowToast.locator('.monaco-button', { hasText: 'Cancel' }).first().click();
      const gone = page.locator('.statusbar-item:has(.codicon-circle-slash)', { hasText: 'cancelled' });
      const cancelled = await gone.first().waitFor({ timeout: 30000 }).then(() => true, () => false);
      check('Cancel in the notification cancels the build', cancelled);
      console.log(`# cancel took ${Date.now() - t1} ms`);
      await shot(page, '7-cancelled');
    }
  } catch (e) {
    failed++;
    console.log(`not ok - the workbench session (${String(e.message || e).split('\n')[0]})`);
    await shot(page, 'error');
  }
  await browser.close();
  console.log(`# vscode: ${passed} passed, ${failed} failed, ${Date.now() - t0} ms`);
  process.exit(failed ? 1 : 0);
})();
