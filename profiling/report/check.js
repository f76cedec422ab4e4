#!/usr/bin/env node
// profiling/report/check.js: loads a report made by profiling/report.sh in
// headless Chromium (playwright-core, the system's /usr/bin/chromium) from
// file:// and checks that it works.  Used by test/report-checks; prints TAP
// lines ("ok - ..." / "not ok - ...").
//
//   node check.js --html FILE --name LABEL --expect-nodes N [--expect-lines N --expect-bytes N]
//                 [--search TERM --expect-matches N] [--click NAME]
//                 [--expect-processes N] [--expect-diff-rows N] [--expect-soak]
//                 [--screenshot FILE]
'use strict';
const fs = require('fs');
const path = require('path');

const opt = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const k = argv[i].replace(/^--/, '');
  if (k === 'expect-soak') { opt[k] = true; continue; }
  opt[k] = argv[++i];
}
const name = opt.name || path.basename(opt.html || '');
let failures = 0;
function ok(cond, what, diag) {
  if (cond) {
    console.log(`ok - ${name}: ${what}`);
  } else {
    failures++;
    console.log(`not ok - ${name}: ${what}`);
    if (diag !== undefined) console.log('# ' + String(diag).split('\n').join('\n# '));
  }
  return cond;
}

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage'];

(async () => {
  let chromium;
  try {
    ({ chromium } = require('playwright-core'));
  } catch (e) {
    ok(false, 'playwright-core loads', e.message);
    process.exit(1);
  }
  const userDataDir = fs.mkdtempSync('/tmp/memprof-report-chromium.');
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1400, height: 900 },
    });
  } catch (e) {
    ok(false, 'headless Chromium starts', e.message);
    fs.rmSync(userDataDir, { recursive: true, force: true });
    process.exit(1);
  }
  const page = context.pages()[0] || await context.newPage();
  const external = [];
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  // the report must not need the network: every other request is refused and noted
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith('file:') || u.startsWith('data:')) return route.continue();
    external.push(u);
    return route.abort();
  });

  try {
    const url = 'file://' + path.resolve(opt.html);
    await page.goto(url, { waitUntil: 'load', timeout: 30000 });
    await page.waitForSelector('body[data-ready="1"]', { timeout: 15000 });
    ok(errors.length === 0, 'page loads with no script error', errors.join('\n'));

    // ---- node count ----
    const expected = Number(opt['expect-nodes']);
    await page.waitForFunction((n) => document.querySelectorAll('#chart g.frame').length >= n || n === 0,
      expected, { timeout: 10000 }).catch(() => {});
    const frames = await page.$$eval('#chart g.frame', (gs) => gs.length);
    const dataNodes = await page.$eval('#chart', (c) => Number(c.dataset.nodes));
    ok(frames === expected && dataNodes === expected,
      `graph has ${expected} nodes, one per distinct path of the folded input`,
      `frames in the DOM: ${frames}, page's own count: ${dataNodes}, expected: ${expected}`);
    if (opt['expect-lines'] !== undefined) {
      const got = await page.$eval('#chart', (c) => ({ lines: Number(c.dataset.lines), bytes: Number(c.dataset.bytes) }));
      ok(got.lines === Number(opt['expect-lines']) && got.bytes === Number(opt['expect-bytes']),
        `graph holds all ${opt['expect-lines']} folded lines and their ${opt['expect-bytes']} bytes`,
        `page: ${got.lines} lines, ${got.bytes} bytes`);
    }
    const svgWidth = await page.$eval('#chart svg', (s) => Number(s.getAttribute('width')));
    const rootW = await page.$eval('#chart g.frame rect', (r) => Number(r.getAttribute('width')));
    // the entry transition sets widths after a delay
    await page.waitForTimeout(700);
    const rootW2 = await page.$$eval('#chart g.frame', (gs) => {
      const top = gs.find((g) => /translate\(0,0\)/.test(g.getAttribute('transform')));
      return top ? Number(top.querySelector('rect').getAttribute('width')) : -1;
    });
    ok(Math.abs(rootW2 - svgWidth) < 1, 'root frame spans the full width', `root ${rootW2} (${rootW} at first), svg ${svgWidth}`);

    // ---- zoom by click ----
    const target = opt.click || 'CacheMemoryContext';
    const sel = `#chart g.frame[name="${target.replace(/"/g, '\\"')}"]`;
    const before = await page.$$eval(sel, (gs) => gs.map((g) => Number(g.querySelector('rect').getAttribute('width'))));
    if (ok(before.length >= 1, `a frame named ${target} exists`, `found ${before.length}`)) {
      // the widest of that name, and one of its siblings to see it vanish
      const idx = before.indexOf(Math.max(...before));
      const handle = (await page.$$(sel))[idx];
      const wBefore = before[idx];
      // a real click on the frame (its label sits on top of the rect, inside the same <g>)
      await handle.click({ timeout: 5000 });
      await page.waitForFunction(([s, i, w]) => {
        const g = document.querySelectorAll(s)[i];
        return g && Math.abs(Number(g.querySelector('rect').getAttribute('width')) - w) < 1;
      }, [sel, idx, svgWidth], { timeout: 5000 }).catch(() => {});
      const after = await page.$$eval(sel, (gs, i) => {
        const g = gs[i];
        return { w: Number(g.querySelector('rect').getAttribute('width')), t: g.getAttribute('transform') };
      }, idx);
      ok(Math.abs(after.w - svgWidth) < 1 && /^translate\(0,/.test(after.t),
        `click on ${target} zooms: its frame now spans the full width`,
        `before ${wBefore}, after ${after.w} at ${after.t}, svg ${svgWidth}`);
      const crumb = await page.$eval('#zoom-path', (e) => e.textContent);
      ok(crumb.endsWith(target), 'the breadcrumb shows the zoomed path', crumb);
      if (opt.screenshot) await page.screenshot({ path: opt.screenshot.replace(/\.png$/, '-zoomed.png') });
      await page.click('#reset-zoom');
      await page.waitForFunction(([s, i, w]) => {
        const g = document.querySelectorAll(s)[i];
        return g && Math.abs(Number(g.querySelector('rect').getAttribute('width')) - w) < 1;
      }, [sel, idx, wBefore], { timeout: 5000 }).catch(() => {});
      const reset = await page.$$eval(sel, (gs, i) => Number(gs[i].querySelector('rect').getAttribute('width')), idx);
      ok(Math.abs(reset - wBefore) < 1, 'Reset zoom restores the frame\'s width', `${reset} vs ${wBefore}`);
    }

    // ---- search ----
    if (opt.search !== undefined) {
      const want = Number(opt['expect-matches']);
      await page.fill('#search', '');
      await page.type('#search', opt.search, { delay: 20 });
      await page.waitForFunction((n) => Number(document.getElementById('chart').dataset.matches) === n, want, { timeout: 5000 }).catch(() => {});
      const hl = await page.$$eval('#chart g.frame rect', (rs) => rs.filter((r) => (r.getAttribute('fill') || '').toLowerCase() === '#e600e6').length);
      const hlNames = await page.$$eval('#chart g.frame', (gs) => gs
        .filter((g) => (g.querySelector('rect').getAttribute('fill') || '').toLowerCase() === '#e600e6')
        .map((g) => g.getAttribute('name')));
      const term = opt.search.toLowerCase();
      ok(hl === want && want > 0 && hlNames.every((n) => n.toLowerCase().includes(term)),
        `search "${opt.search}" highlights the ${want} matching frames`,
        `highlighted ${hl}: ${hlNames.slice(0, 10).join(', ')}`);
      const count = await page.$eval('#search-count', (e) => e.textContent);
      ok(count.startsWith(`${want} match`), 'the match count is shown', count);
      if (opt.screenshot) {
        await page.screenshot({ path: opt.screenshot, fullPage: true });
        ok(fs.existsSync(opt.screenshot) && fs.statSync(opt.screenshot).size > 10000,
          `screenshot ${opt.screenshot}`);
      }
      await page.click('#clear-search');
      const left = await page.$$eval('#chart g.frame rect', (rs) => rs.filter((r) => (r.getAttribute('fill') || '').toLowerCase() === '#e600e6').length);
      ok(left === 0, 'Clear search removes the highlight', `${left} left`);
    } else if (opt.screenshot) {
      await page.screenshot({ path: opt.screenshot, fullPage: true });
    }

    // ---- tables ----
    if (opt['expect-processes'] !== undefined) {
      const rows = await page.$$eval('#processes tbody tr', (t) => t.map((r) => r.children[1].textContent));
      ok(rows.length === Number(opt['expect-processes']) && rows.includes('checkpointer'),
        `processes table has the ${opt['expect-processes']} rows of memprof_backends, checkpointer among them`,
        `rows ${rows.length}: ${rows.join(', ')}`);
    }
    if (opt['expect-diff-rows'] !== undefined) {
      const visible = await page.$eval('#diff-section', (s) => !s.hidden);
      const rows = await page.$$eval('#diff tbody tr', (t) => t.length);
      const totals = await page.$$eval('#diff tbody tr.totals', (t) => t.length);
      ok(visible && rows === Number(opt['expect-diff-rows']) && totals === 1,
        `diff table has the ${opt['expect-diff-rows']} rows of memprof_diff, one of them the totals`,
        `visible ${visible}, rows ${rows}, totals rows ${totals}`);
      // the page's second view: the growth graph
      const views = await page.$$eval('#view option', (o) => o.map((x) => x.value));
      if (ok(views.length === 2, 'a second view (growth between the snapshots) is offered', views.join(','))) {
        await page.selectOption('#view', '1');
        const g = await page.$eval('#chart', (c) => ({ view: c.dataset.view, nodes: Number(c.dataset.nodes), frames: c.querySelectorAll('g.frame').length }));
        ok(g.view === 'growth' && g.frames === g.nodes && g.nodes > 0, 'switching to the growth view draws it', JSON.stringify(g));
        await page.selectOption('#view', '0');
      }
    }
    if (opt['expect-soak']) {
      const img = await page.$eval('#soak-img', (i) => ({ w: i.naturalWidth, hidden: i.hidden || i.closest('section').hidden, src: i.src.slice(0, 22) }));
      ok(img.w > 0 && !img.hidden && img.src === 'data:image/png;base64,', 'soak plot is embedded and shown', JSON.stringify(img));
    }
    ok(external.length === 0, 'no request left file:// (the page is self-contained)', external.join('\n'));
  } catch (e) {
    ok(false, 'browser session', e.stack || e.message);
  } finally {
    await context.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  process.exit(failures ? 1 : 0);
})();
