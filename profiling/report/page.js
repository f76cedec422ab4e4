// profiling/report/page.js: the behaviour of memprof's HTML report.
// Inlined by build.js after d3 and d3-flame-graph; reads its data from the
// <script id="memprof-data"> element.  No network, no other file.
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('memprof-data').textContent);

  // ---- formatting ----
  // Every byte figure of the page goes through bytes(): the units of
  // PostgreSQL's pg_size_pretty (1024-based: bytes, kB, MB, GB, TB) with at
  // most 3 significant digits.  Under 1024 the exact count ("512 bytes");
  // from 1024 the largest unit that keeps the value at 1 or more, with one
  // decimal under 100 ("8.0 kB", "95.4 kB") and none from 100 ("954 kB");
  // a value that rounds to 1024 moves to the next unit ("1.0 MB").
  // docs/report.md states the same rule.
  const UNITS = ['bytes', 'kB', 'MB', 'GB', 'TB'];
  function bytes(n) {
    if (n === null || n === undefined || n === '') return '';
    n = Number(n);
    if (!Number.isFinite(n)) return '';
    const sign = n < 0 ? '-' : '';
    let v = Math.abs(n);
    if (v < 1024) return sign + Math.round(v) + ' bytes';
    let u = 0;
    while (v >= 1024 && u < UNITS.length - 1) { v /= 1024; u++; }
    let s;
    if (v < 100 && Math.round(v * 10) / 10 < 100) {
      s = (Math.round(v * 10) / 10).toFixed(1);
    } else {
      let r = Math.round(v);
      if (r >= 1024 && u < UNITS.length - 1) { u++; r = 1; s = '1.0'; } else s = String(r);
    }
    return sign + s + ' ' + UNITS[u];
  }
  function signedBytes(n) {
    if (n === null || n === undefined) return '';
    return (Number(n) > 0 ? '+' : '') + bytes(n);
  }
  // exposed for the browser test (profiling/report/check.js)
  window.memprofBytes = bytes;
  const fmtInt = d3.format(',');
  const pct = d3.format('.1%');

  // ---- folded stacks -> tree ----
  // One node per distinct path prefix; a path's bytes are the sum of the
  // lines ending there (repeated siblings merge, as flame graphs do).
  function parseFolded(text) {
    const root = { name: '(all)', value: 0, contexts: 0, children: [], kids: new Map() };
    let lines = 0;
    let nodes = 0;
    for (const raw of text.split('\n')) {
      const line = raw.replace(/\r$/, '');
      if (line.trim() === '') continue;
      const sp = line.lastIndexOf(' ');
      if (sp <= 0) continue;
      const v = Number(line.slice(sp + 1));
      if (!Number.isFinite(v)) continue;
      lines++;
      let node = root;
      for (const name of line.slice(0, sp).split(';')) {
        let child = node.kids.get(name);
        if (!child) {
          child = { name, value: 0, contexts: 0, children: [], kids: new Map() };
          node.kids.set(name, child);
          node.children.push(child);
          nodes++;
        }
        node = child;
      }
      node.value += v;
      node.contexts++;
    }
    let top = root;
    if (root.children.length === 1) top = root.children[0]; else nodes++;
    (function strip(n) { delete n.kids; n.children.forEach(strip); })(top);
    return { tree: top, lines, nodes };
  }

  // the scope of a path, after its top-level context (as memprof_leak_check)
  function scopeOf(d) {
    let a = d;
    while (a.depth > 1) a = a.parent;
    const top = a.depth === 1 ? a.data.name : '';
    if (/^(MessageContext|TopPortalContext|PortalContext|ErrorContext)$/.test(top)) return 'statement';
    if (top === 'TopTransactionContext') return 'transaction';
    return 'session';
  }
  function hash(s) {
    let h = 0;
    for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
    return (h >>> 0) / 4294967295;
  }
  const hues = { session: [18, 48], transaction: [200, 230], statement: [95, 135] };
  function frameColor(d) {
    if (d.highlight) return '#E600E6';
    const [h0, h1] = hues[scopeOf(d)];
    const x = hash(d.data.name);
    return d3.hsl(h0 + (h1 - h0) * x, 0.75, 0.55 + 0.15 * x).formatHex();
  }
  function pathOf(d) {
    return d.ancestors().reverse().map((a) => a.data.name);
  }

  // ---- the graph ----
  const chartEl = document.getElementById('chart');
  const details = document.getElementById('details');
  const searchBox = document.getElementById('search');
  const searchCount = document.getElementById('search-count');
  const zoomPath = document.getElementById('zoom-path');
  let chart = null;
  let current = null; // { graph, parsed }
  const parsedCache = new Map();

  function label(d) {
    const root = d.ancestors().pop();
    const share = root.value ? d.value / root.value : 0;
    const self = d.data.value;
    return pathOf(d).join(' / ') + '\n' + bytes(d.value) + ' (' + pct(share) + ' of the view)' +
      (d.children ? ', self ' + bytes(self) : '') +
      (d.data.contexts > 1 ? ', ' + fmtInt(d.data.contexts) + ' contexts merged' : '');
  }

  function draw(graphIndex) {
    const g = data.graphs[graphIndex];
    if (!parsedCache.has(graphIndex)) parsedCache.set(graphIndex, parseFolded(g.folded));
    const parsed = parsedCache.get(graphIndex);
    current = { graph: g, parsed, index: graphIndex };
    if (chart) chart.destroy();
    chartEl.innerHTML = '';
    document.getElementById('graph-title').textContent = g.title;
    chartEl.dataset.view = g.id;
    chartEl.dataset.nodes = parsed.nodes;
    chartEl.dataset.lines = parsed.lines;
    chartEl.dataset.input = g.file;
    if (parsed.lines === 0) {
      chartEl.innerHTML = '<p class="empty">Nothing to draw: the folded input (' + g.file + ') has no line.</p>';
      renderLargest(null);
      return;
    }
    chart = flamegraph()
      .width(Math.max(600, chartEl.clientWidth))
      .cellHeight(18)
      .inverted(true)
      .selfValue(true)
      .minFrameSize(0)
      .transitionDuration(300)
      .sort((a, b) => (b.value - a.value) || d3.ascending(a.data.name, b.data.name))
      .setDetailsElement(details)
      .label(label)
      .setColorMapper((d) => frameColor(d))
      .setSearchMatch((d, term) => !!term && d.data.name.toLowerCase().includes(term.toLowerCase()))
      .setSearchHandler((results, sum, total) => {
        const n = results.length;
        searchCount.textContent = n + (n === 1 ? ' match' : ' matches') +
          (n ? ' (' + bytes(sum) + ', ' + pct(total ? sum / total : 0) + ')' : '');
        chartEl.dataset.matches = n;
      })
      .onClick((d) => {
        zoomPath.textContent = pathOf(d).join(' / ');
        chartEl.dataset.zoomed = d.data.name;
      });
    d3.select(chartEl).datum(parsed.tree).call(chart);
    chartEl.dataset.bytes = d3.select(chartEl).datum().value;
    zoomPath.textContent = parsed.tree.name;
    delete chartEl.dataset.zoomed;
    if (searchBox.value) doSearch();
    renderLargest(d3.select(chartEl).datum());
  }

  function doSearch() {
    if (!chart) return;
    const term = searchBox.value.trim();
    if (term === '') {
      chart.clear();
      searchCount.textContent = '';
      chartEl.dataset.matches = 0;
    } else {
      chart.search(term);
    }
  }
  searchBox.addEventListener('input', doSearch);
  document.getElementById('clear-search').addEventListener('click', () => { searchBox.value = ''; doSearch(); });
  document.getElementById('reset-zoom').addEventListener('click', () => { if (chart) chart.resetZoom(); });

  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (current) draw(current.index); }, 250);
  });

  // the paths holding the most bytes themselves; a click zooms the graph there
  function renderLargest(root) {
    const t = d3.select('#largest');
    t.selectAll('*').remove();
    if (!root) return;
    const rows = root.descendants().filter((d) => d.data.value > 0)
      .sort((a, b) => b.data.value - a.data.value).slice(0, 15);
    t.append('thead').append('tr').selectAll('th')
      .data(['path', 'contexts', 'bytes (own)', 'with children']).join('th').text((d) => d);
    const tr = t.append('tbody').selectAll('tr').data(rows).join('tr').attr('class', 'clickable')
      .attr('title', 'click to zoom the graph here')
      .on('click', (ev, d) => { if (chart) { chart.zoomTo(d); window.scrollTo({ top: chartEl.offsetTop - 80 }); } });
    tr.append('td').attr('class', 'path').text((d) => pathOf(d).join(' / '));
    tr.append('td').attr('class', 'num').text((d) => fmtInt(d.data.contexts));
    tr.append('td').attr('class', 'num bytes').text((d) => bytes(d.data.value));
    tr.append('td').attr('class', 'num bytes').text((d) => bytes(d.value));
  }

  // ---- generic sortable table ----
  function table(sel, cols, rows, opts) {
    opts = opts || {};
    const t = d3.select(sel);
    t.selectAll('*').remove();
    const head = t.append('thead').append('tr');
    const body = t.append('tbody');
    let sortCol = null;
    let asc = false;
    function render() {
      let r = rows.slice();
      if (sortCol) {
        r.sort((a, b) => {
          const x = a[sortCol.key];
          const y = b[sortCol.key];
          if (x === y) return 0;
          if (x === null || x === undefined) return 1;
          if (y === null || y === undefined) return -1;
          const c = (typeof x === 'number' || sortCol.num) ? Number(x) - Number(y) : String(x).localeCompare(String(y));
          return asc ? c : -c;
        });
      }
      const tr = body.selectAll('tr').data(r).join('tr')
        .attr('class', (d) => (opts.rowClass ? opts.rowClass(d) : null));
      tr.selectAll('td').data((d) => cols.map((c) => ({ c, d }))).join('td')
        .attr('class', (x) => [x.c.num ? 'num' : '', x.c.bytes ? 'bytes' : '', x.c.trunc ? 'trunc' : '',
          x.c.path ? 'path' : '', x.c.cls ? x.c.cls(x.d) : ''].filter(Boolean).join(' ') || null)
        .attr('title', (x) => (x.c.title ? x.c.title(x.d)
          : x.c.trunc && x.d[x.c.key] !== null && x.d[x.c.key] !== undefined ? String(x.d[x.c.key]) : null))
        .text((x) => (x.c.fmt ? x.c.fmt(x.d[x.c.key], x.d) : (x.d[x.c.key] ?? '')));
    }
    head.selectAll('th').data(cols).join('th').text((c) => c.label)
      .attr('class', (c) => (c.num ? 'num sortable' : 'sortable'))
      .attr('title', (c) => c.help || 'click to sort')
      .on('click', (ev, c) => { if (sortCol === c) asc = !asc; else { sortCol = c; asc = !c.num; } render(); });
    render();
  }

  // ---- header ----
  document.getElementById('source').textContent = data.source;
  document.getElementById('generated').textContent = data.generated_at;
  const notes = d3.select('#notes');
  notes.selectAll('li').data(data.notes || []).join('li').text((d) => d);

  // ---- process info ----
  const p = data.process;
  if (p) {
    const parts = [];
    if (p.snapshot_id !== undefined) {
      parts.push('snapshot ' + p.snapshot_id + (p.label ? ' "' + p.label + '"' : '') + ', taken ' + p.taken_at);
      parts.push('pid ' + p.pid + ' (' + p.backend_type + ')');
      parts.push(fmtInt(p.contexts) + ' contexts, ' + bytes(p.total_bytes) + ' total, ' + bytes(p.used_bytes) + ' used');
      if (p.truncated) parts.push('truncated: ' + p.omitted_contexts + ' contexts omitted');
    } else {
      parts.push('pid ' + p.pid + (p.backend_type ? ' (' + p.backend_type + ')' : ''));
      if (p.datname) parts.push('database ' + p.datname);
      if (p.usename) parts.push('user ' + p.usename);
      if (p.application_name) parts.push('application ' + p.application_name);
      if (p.contexts !== null && p.contexts !== undefined) parts.push(fmtInt(p.contexts) + ' contexts, ' + bytes(p.total_bytes) + ' in contexts (last published)');
      if (p.rss_bytes) parts.push('RSS ' + bytes(p.rss_bytes));
    }
    document.getElementById('process-info').textContent = parts.join(' · ');
  }

  // ---- views ----
  const sel = document.getElementById('view');
  data.graphs.forEach((g, i) => {
    const o = document.createElement('option');
    o.value = i;
    o.textContent = g.title;
    sel.appendChild(o);
  });
  if (data.graphs.length > 1) document.getElementById('view-label').hidden = false;
  sel.addEventListener('change', () => draw(Number(sel.value)));

  // ---- processes ----
  const bcols = [
    { key: 'pid', label: 'pid', num: true },
    { key: 'backend_type', label: 'type' },
    { key: 'datname', label: 'database', trunc: true },
    { key: 'usename', label: 'user', trunc: true },
    { key: 'application_name', label: 'application', trunc: true },
    { key: 'state', label: 'state', trunc: true },
    { key: 'contexts', label: 'contexts', num: true, fmt: (v) => (v === null || v === undefined ? '' : fmtInt(v)) },
    { key: 'total_bytes', label: 'contexts total', num: true, fmt: bytes, bytes: true, help: 'total_bytes: all contexts, as last published' },
    { key: 'used_bytes', label: 'used', num: true, fmt: bytes, bytes: true },
    { key: 'cache_bytes', label: 'cache', num: true, fmt: bytes, bytes: true, help: 'CacheMemoryContext' },
    { key: 'portal_bytes', label: 'portals', num: true, fmt: bytes, bytes: true, help: 'TopPortalContext: portals and executors' },
    { key: 'peak_total_bytes', label: 'peak', num: true, fmt: bytes, bytes: true, help: 'largest total published' },
    { key: 'rss_bytes', label: 'RSS', num: true, fmt: bytes, bytes: true, help: 'VmRSS from /proc/<pid>/status, now' },
    { key: 'pss_bytes', label: 'PSS', num: true, fmt: bytes, bytes: true },
    { key: 'private_bytes', label: 'private', num: true, fmt: bytes, bytes: true },
    { key: 'unaccounted_bytes', label: 'outside contexts', num: true, fmt: bytes, bytes: true, help: 'private - contexts total' },
    { key: 'published_at', label: 'published', cls: () => 'when', help: 'time of the last publication (the whole timestamp in the cell\'s tooltip)',
      fmt: (v) => (v ? String(v).replace(/^.*[T ]/, '').replace(/[.+-].*$/, '') : ''),
      title: (d) => (d.published_at ? String(d.published_at).replace('T', ' ') : null) },
  ];
  const drawnPid = p && p.snapshot_id === undefined ? p.pid : null;
  if (data.backends) {
    const n = data.backends.length;
    document.getElementById('processes-info').textContent = n + ' process' + (n === 1 ? '' : 'es') +
      ' by contexts total, largest first' +
      '. Context figures are what each process last published; RSS is read now.';
    table('#processes', bcols, data.backends, { rowClass: (d) => (d.pid === drawnPid ? 'drawn' : null) });
  } else {
    document.getElementById('processes-info').textContent = 'memprof_backends could not be read' +
      (data.backends_error ? ': ' + data.backends_error : '') + '.';
  }

  // ---- diff ----
  if (data.diff) {
    document.getElementById('diff-section').hidden = false;
    document.getElementById('nav-diff').hidden = false;
    const h = data.diff_headers || [];
    const desc = (s) => (s ? 'snapshot ' + s.id + (s.label ? ' "' + s.label + '"' : '') + ' (pid ' + s.pid + ', ' + s.backend_type + ', ' + s.taken_at + ', ' + fmtInt(s.contexts) + ' contexts)' : '');
    const rows = data.diff.map((r) => Object.assign({}, r, { path_text: r.path ? r.path.join(' / ') : 'total' }));
    const grew = rows.filter((r) => r.path && r.used_bytes_delta > 0).length;
    document.getElementById('diff-info').textContent = 'From ' + desc(h[0]) + ' to ' + desc(h[1]) + ': ' +
      rows.filter((r) => r.path).length + ' paths, ' + grew + ' grew in used bytes.';
    const dcls = (k) => (d) => (d[k] > 0 ? 'grew' : d[k] < 0 ? 'shrank' : '');
    table('#diff', [
      { key: 'path_text', label: 'path', path: true },
      { key: 'contexts_from', label: 'contexts from', num: true, fmt: (v) => fmtInt(v ?? 0) },
      { key: 'contexts_to', label: 'to', num: true, fmt: (v) => fmtInt(v ?? 0) },
      { key: 'contexts_delta', label: 'Δ', num: true, fmt: (v) => (v > 0 ? '+' : '') + fmtInt(v ?? 0), cls: dcls('contexts_delta') },
      { key: 'total_bytes_from', label: 'total from', num: true, fmt: bytes, bytes: true },
      { key: 'total_bytes_to', label: 'to', num: true, fmt: bytes, bytes: true },
      { key: 'total_bytes_delta', label: 'Δ', num: true, fmt: signedBytes, bytes: true, cls: dcls('total_bytes_delta') },
      { key: 'used_bytes_from', label: 'used from', num: true, fmt: bytes, bytes: true },
      { key: 'used_bytes_to', label: 'to', num: true, fmt: bytes, bytes: true },
      { key: 'used_bytes_delta', label: 'Δ', num: true, fmt: signedBytes, bytes: true, cls: dcls('used_bytes_delta') },
    ], rows, { rowClass: (d) => (d.path ? null : 'totals') });
  }

  // ---- soak ----
  if (data.soak_png || data.soak_report) {
    document.getElementById('soak-section').hidden = false;
    document.getElementById('nav-soak').hidden = false;
    document.getElementById('soak-info').textContent = 'From ' + (data.soak_dir || 'the soak run') +
      (data.soak_png ? ' (' + data.soak_png + ')' : ': no PNG there');
    if (!data.soak_png) document.getElementById('soak-img').hidden = true;
    if (data.soak_report) {
      document.getElementById('soak-report-box').hidden = false;
      document.getElementById('soak-report').textContent = data.soak_report;
    }
  }

  draw(0);
  document.body.dataset.ready = '1';
})();
