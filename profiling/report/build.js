#!/usr/bin/env node
// profiling/report/build.js: writes memprof's self-contained HTML report.
//
// Called by profiling/report.sh, which has already queried the server into a
// data directory.  Everything the page needs is inlined: d3 and
// d3-flame-graph (JS and CSS, from node_modules), the folded stacks, the
// tables as JSON, the soak plot as a data: URI.  The page makes no request.
//
//   node build.js --data DIR --out FILE [--title T] [--source TEXT]
//                 [--graph ID=FILE=TITLE]... [--process FILE] [--backends FILE]
//                 [--backends-error FILE] [--diff FILE] [--diff-headers FILE]
//                 [--soak-png FILE] [--soak-report FILE] [--note TEXT]...
//
// --graph FILE is a folded-stack file ("a;b;c 123" per line); the first
// --graph is the one shown when the page opens.  JSON files are what psql
// printed for json_agg(...), absent or empty meaning none.
'use strict';
const fs = require('fs');
const path = require('path');

function usage(msg) {
  if (msg) process.stderr.write(`build.js: ${msg}\n`);
  process.stderr.write('usage: build.js --data DIR --out FILE [--graph ID=FILE=TITLE]... (see the header)\n');
  process.exit(2);
}

const opt = { graph: [], note: [] };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (!a.startsWith('--')) usage(`unexpected argument ${a}`);
  const key = a.slice(2);
  const val = argv[++i];
  if (val === undefined) usage(`${a} needs a value`);
  if (Array.isArray(opt[key])) opt[key].push(val); else opt[key] = val;
}
if (!opt.out) usage('--out is required');
if (opt.graph.length === 0) usage('at least one --graph is required');

const here = __dirname;
const nm = path.join(here, 'node_modules');
function readModule(rel) {
  const f = path.join(nm, rel);
  if (!fs.existsSync(f)) {
    process.stderr.write(`build.js: ${f} is missing; run "npm ci" in ${here}\n`);
    process.exit(2);
  }
  return fs.readFileSync(f, 'utf8');
}
function version(mod) {
  return JSON.parse(readModule(path.join(mod, 'package.json'))).version;
}

const d3js = readModule('d3/dist/d3.min.js');
const fgjs = readModule('d3-flame-graph/dist/d3-flamegraph.min.js');
const fgcss = readModule('d3-flame-graph/dist/d3-flamegraph.css');
const pageJs = fs.readFileSync(path.join(here, 'page.js'), 'utf8');
const pageCss = fs.readFileSync(path.join(here, 'page.css'), 'utf8');

// inline <script>/<style> must not contain their own end tag
for (const [name, text] of [['d3', d3js], ['d3-flame-graph', fgjs], ['page.js', pageJs]]) {
  if (/<\/script/i.test(text)) { process.stderr.write(`build.js: ${name} contains </script>\n`); process.exit(2); }
}

function readJson(file, dflt) {
  if (!file || !fs.existsSync(file)) return dflt;
  const t = fs.readFileSync(file, 'utf8').trim();
  if (t === '') return dflt;
  return JSON.parse(t);
}
function readText(file) {
  return file && fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
}

const graphs = opt.graph.map((g) => {
  const m = /^([^=]+)=([^=]+)=(.*)$/s.exec(g);
  if (!m) usage(`--graph ${g}: expected ID=FILE=TITLE`);
  const folded = readText(m[2]);
  if (folded === null) usage(`--graph ${g}: no file ${m[2]}`);
  return { id: m[1], file: path.basename(m[2]), title: m[3], folded };
});

const data = {
  title: opt.title || 'memprof report',
  source: opt.source || '',
  generated_at: new Date().toISOString(),
  notes: opt.note,
  graphs,
  process: readJson(opt.process, null),
  backends: readJson(opt.backends, null),
  backends_error: (readText(opt['backends-error']) || '').trim() || null,
  diff: readJson(opt.diff, null),
  diff_headers: readJson(opt['diff-headers'], null),
  soak_report: readText(opt['soak-report']),
  soak_dir: opt['soak-dir'] || null,
  libs: { d3: version('d3'), 'd3-flame-graph': version('d3-flame-graph') },
};
let soakImg = null;
if (opt['soak-png'] && fs.existsSync(opt['soak-png'])) {
  soakImg = 'data:image/png;base64,' + fs.readFileSync(opt['soak-png']).toString('base64');
  data.soak_png = path.basename(opt['soak-png']);
}

// JSON inside <script type="application/json">: no "</" may appear
const dataJson = JSON.stringify(data).replace(/</g, '\\u003c');
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));

const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="memprof profiling/report.sh; d3 ${esc(data.libs.d3)}, d3-flame-graph ${esc(data.libs['d3-flame-graph'])}">
<title>${esc(data.title)}</title>
<style>
${fgcss}
</style>
<style>
${pageCss}
</style>
<script>
${d3js}
</script>
<script>
${fgjs}
</script>
</head>
<body>
<header>
  <h1>${esc(data.title)}</h1>
  <p class="meta" id="source"></p>
  <nav>
    <a href="#graph-section">Context tree</a>
    <a href="#processes-section">Processes</a>
    <a href="#diff-section" id="nav-diff" hidden>Snapshot diff</a>
    <a href="#soak-section" id="nav-soak" hidden>Soak plot</a>
  </nav>
  <ul id="notes" class="notes"></ul>
</header>

<section id="graph-section">
  <h2 id="graph-title">Context tree</h2>
  <p class="meta" id="process-info"></p>
  <div class="controls">
    <label id="view-label" hidden>View <select id="view"></select></label>
    <input id="search" type="search" placeholder="search contexts (substring, any case)" autocomplete="off" size="34">
    <span id="search-count" class="count"></span>
    <button id="reset-zoom" type="button">Reset zoom</button>
    <button id="clear-search" type="button">Clear search</button>
  </div>
  <div id="zoom-path" class="breadcrumb">TopMemoryContext</div>
  <div id="chart"></div>
  <div id="details" class="details">&nbsp;</div>
  <p class="hint">Icicle graph: one frame per context path (siblings with the same
  name are merged, as in any flame graph), width = bytes of the path and everything
  below it. Click a frame to zoom in, click an ancestor or "Reset zoom" to zoom out.
  Colours: <span class="swatch session"></span> session,
  <span class="swatch transaction"></span> transaction,
  <span class="swatch statement"></span> statement scope (the top-level context's
  lifetime); <span class="swatch match"></span> search match.</p>
  <h3>Largest paths</h3>
  <table id="largest" class="data"></table>
</section>

<section id="processes-section">
  <h2>Processes <small>(memprof_backends)</small></h2>
  <p class="meta" id="processes-info"></p>
  <div class="wide"><table id="processes" class="data"></table></div>
</section>

<section id="diff-section" hidden>
  <h2>Snapshot diff <small>(memprof_diff)</small></h2>
  <p class="meta" id="diff-info"></p>
  <div class="wide"><table id="diff" class="data"></table></div>
</section>

<section id="soak-section" hidden>
  <h2>Soak run</h2>
  <p class="meta" id="soak-info"></p>
  <img id="soak-img" alt="soak plot"${soakImg ? ` src="${soakImg}"` : ''}>
  <details id="soak-report-box" hidden><summary>report.md</summary><pre id="soak-report"></pre></details>
</section>

<footer>Generated by memprof <code>profiling/report.sh</code> at <span id="generated"></span>;
graph drawn with d3 ${esc(data.libs.d3)} and d3-flame-graph ${esc(data.libs['d3-flame-graph'])}, inlined: this file makes no network request.</footer>

<script type="application/json" id="memprof-data">${dataJson}</script>
<script>
${pageJs}
</script>
</body>
</html>
`;

fs.mkdirSync(path.dirname(path.resolve(opt.out)), { recursive: true });
fs.writeFileSync(opt.out, html);
