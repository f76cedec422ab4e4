#!/usr/bin/env node
// profiling/report/check.js: loads a report made by profiling/report.sh in
// headless Chromium (playwright-core, the system's /usr/bin/chromium) from
// file:// and checks that it works.  Used by test/report-checks; prints TAP
// lines ("ok - ..." / "not ok - ...").
//
//   node check.js --html FILE --name LABEL --expect-nodes N [--expect-lines N --expect-bytes N]
//                 [--search TERM --expect-matches N] [--click NAME]
//                 [--expect-processes N] [--expect-diff-rows N] [--expect-soak]
//                 [--screenshot FILE] [--viewport WxH]
//
// The page is loaded at --viewport (default 1280x800) and must fit it: no
// horizontal page scroll, no table wider than the viewport.  Every byte
// figure in its tables, in the drawn process's line, in the search count and
// in a frame's tooltip must follow the report's unit rule (docs/report.md,
// "Units"), checked with SIZE_RX below.
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
const [VW, VH] = (opt.viewport || '1280x800').split('x').map(Number);

// the unit rule: under 1024 the exact count of bytes; from 1024 kB, MB, GB
// or TB (1024-based) with one decimal from 1.0 to 99.9 and none from 100 to
// 1023; a sign only on differences
const SIZE_RX = /^[+-]?(?:(?:0|[1-9]\d{0,2}|10[01]\d|102[0-3]) bytes|[1-9]\d?\.\d [kMGT]B|(?:[1-9]\d{2}|10[01]\d|102[0-3]) [kMGT]B)$/;
// anything in running text that looks like a size, to be held to SIZE_RX
const SIZE_IN_TEXT = /[-+]?\d[\d,.]*\s*(?:bytes|[kKMGT]i?B)\b/g;
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
      executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: VW, height: VH },
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

    // ---- layout at the viewport's width ----
    const lay = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      inner: window.innerWidth,
      tables: [...document.querySelectorAll('table')].map((t) => {
        const r = t.getBoundingClientRect();
        return { id: t.id || t.className, right: Math.round(r.right), width: Math.round(r.width), shown: r.width > 0 };
      }),
      wide: [...document.querySelectorAll('.wide')].map((w) => ({ scroll: w.scrollWidth, client: w.clientWidth })),
    }));
    ok(lay.inner === VW && lay.scrollWidth <= VW,
      `at ${VW}x${VH} the page has no horizontal scroll (document scrollWidth ${lay.scrollWidth} <= ${VW})`,
      JSON.stringify(lay));
    const over = lay.tables.filter((t) => t.shown && t.right > VW);
    const shown = lay.tables.filter((t) => t.shown).length;
    const clipped = lay.wide.filter((w) => w.scroll > w.client + 1).length;
    ok(shown >= 2 && over.length === 0 && clipped === 0,
      `no table's right edge passes the ${VW} px viewport, none scrolls inside its box (${shown} tables shown)`,
      JSON.stringify(lay.tables) + ' ' + JSON.stringify(lay.wide));
    const cells = await page.$$eval('td.bytes', (tds) => tds.map((td) => ({
      t: td.textContent, table: td.closest('table').id, right: getComputedStyle(td).textAlign })));
    const badCells = cells.filter((c) => c.t !== '' && !SIZE_RX.test(c.t));
    const leftCells = cells.filter((c) => c.right !== 'right');
    ok(cells.filter((c) => c.t !== '').length > 0 && badCells.length === 0 && leftCells.length === 0,
      `every byte figure in the tables follows the unit rule and is right-aligned (${cells.length} cells, e.g. ${[...new Set(cells.map((c) => c.t))].slice(0, 4).join(', ')})`,
      'not matching: ' + JSON.stringify(badCells.slice(0, 10)) + '; not right-aligned: ' + leftCells.length);
    const unmarked = await page.$$eval('table.data td:not(.bytes)', (tds) => tds.map((td) => td.textContent));
    const sizeLike = unmarked.filter((t) => /\d\s*(?:bytes|[kKMGT]i?B)\b/.test(t));
    ok(sizeLike.length === 0, 'no size in a table cell outside the byte columns', sizeLike.slice(0, 10).join(' | '));
    const cut = await page.$$eval('td.trunc', (tds) => tds.filter((td) => td.scrollWidth > td.clientWidth)
      .map((td) => ({ text: td.textContent, title: td.getAttribute('title') })));
    ok(cut.every((c) => c.title === c.text), `text cut short in a table keeps the whole text in its tooltip (${cut.length} cut)`,
      JSON.stringify(cut.slice(0, 5)));

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

    // ---- sizes in running text: the drawn process's line, a frame's tooltip ----
    const texts = [];
    const rootFrame = await page.$$('#chart g.frame').then(async (gs) => {
      for (const g of gs) if (/translate\(0,0\)/.test(await g.getAttribute('transform'))) return g;
      return null;
    });
    if (rootFrame) {
      await rootFrame.hover({ timeout: 5000 }).catch(() => {});
      await page.waitForFunction(() => /\d/.test(document.getElementById('details').textContent), null, { timeout: 3000 }).catch(() => {});
    }
    texts.push(...await page.evaluate(() => ['process-info', 'details'].map((i) => document.getElementById(i).textContent)));

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
      texts.push(count);
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
    const figures = texts.join('\n').match(SIZE_IN_TEXT) || [];
    const badFigures = figures.filter((f) => !SIZE_RX.test(f.trim()));
    ok(figures.length >= 2 && badFigures.length === 0,
      `sizes in the process line, the frame tooltip and the search count follow the unit rule (${figures.join(', ')})`,
      'not matching: ' + badFigures.join(', ') + '\n' + texts.join('\n'));
    ok(external.length === 0, 'no request left file:// (the page is self-contained)', external.join('\n'));
  } catch (e) {
    ok(false, 'browser session', e.stack || e.message);
  } finally {
    await context.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  process.exit(failures ? 1 : 0);
})();
