// dfreport --html: the page's script (inlined into the page at build time).
// Reads the profile from <script id="data">: frames [name, object, kind],
// and per event the stacks (frame ids, root first) and cells (stack, time
// bucket, value) from which any time range's flame graph is summed here.
'use strict';
const D = JSON.parse(document.getElementById('data').textContent);
const ROW = 16, MIN_W = 0.5, MAX_BOXES = 20000, MAX_ROWS = 300;
let ev = D.initial, range = null, zoom = null, icicle = false, sortKey = 'self', tree = null, base = null;

window.addEventListener('error', e => {
  document.getElementById('errors').textContent += (e.message || String(e)) + '\n';
});

// A value as people read it: time in ms or s, bytes in KiB/MiB, counts as counts.
function fmt(v, e) {
  if (e.unit === 'ns') return v >= 1e9 ? (v / 1e9).toFixed(2) + ' s' : (v / 1e6).toFixed(1) + ' ms';
  if (e.unit === 'bytes') return v >= 1048576 ? (v / 1048576).toFixed(1) + ' MiB' : (v / 1024).toFixed(1) + ' KiB';
  return v + ' samples' + (e.period ? ' (' + (v * e.period / 1e6).toFixed(0) + ' ms)' : '');
}
function pct(v, t) { return t ? (100 * v / t).toFixed(2) + '%' : '0%'; }
function hashName(s) { let h = 2166136261; for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); } return h >>> 0; }
function color(fr) {
  const h = hashName(fr[0]), a = h % 1000, b = (h >>> 16) % 1000;
  switch (fr[2]) {
    case 'r': return `rgb(${170 + a % 40},${170 + b % 40},230)`;
    case 'x': return `rgb(${180 + a % 30},${180 + a % 30},${180 + a % 30})`;
    case 'k': return `rgb(${220 + a % 35},${120 + b % 60},${30 + a % 30})`;
    case 'i': return `rgb(${50 + a % 60},${180 + b % 50},${60 + a % 55})`;
    default: return `rgb(${205 + a % 50},${b % 230},${(a * 7) % 55})`;
  }
}

// Values per stack of event e in the selected range of buckets.
function stackValues(e) {
  const v = new Float64Array(e.stacks.length), c = e.cells;
  for (let i = 0; i < c.length; i += 3) {
    const b = c[i + 1];
    if (range && (b < range[0] || b >= range[1])) continue;
    v[c[i]] += c[i + 2];
  }
  return v;
}
function buildTree(stacks, vals) {
  const root = { f: -1, v: 0, c: new Map(), p: null, b: 0 };
  for (let i = 0; i < stacks.length; i++) {
    const x = vals[i];
    if (!x) continue;
    root.v += x;
    let n = root;
    for (const f of stacks[i]) {
      let ch = n.c.get(f);
      if (!ch) { ch = { f, v: 0, c: new Map(), p: n, b: 0 }; n.c.set(f, ch); }
      ch.v += x;
      n = ch;
    }
  }
  return root;
}
// --diff: each node gets the value of the same path (by name, object, kind) in the base.
function keyOf(frames, f) { const fr = frames[f]; return fr[0] + '\u0001' + fr[1] + '\u0001' + fr[2]; }
function pair(n, bn) {
  n.b = bn.v;
  const byKey = new Map();
  for (const c of bn.c.values()) byKey.set(keyOf(D.base.frames, c.f), c);
  for (const c of n.c.values()) { const m = byKey.get(keyOf(D.frames, c.f)); if (m) pair(c, m); }
}

function diffColor(n) {
  const now = tree.v ? 100 * n.v / tree.v : 0, was = base.v ? 100 * n.b / base.v : 0, d = now - was;
  const t = Math.min(1, Math.abs(d) / 10), v = 255 - Math.round(t * 200);
  return d > 0 ? `rgb(255,${v},${v})` : `rgb(${v},${v},255)`;
}
function title(n) {
  const e = D.events[ev], fr = D.frames[n.f];
  let s = fr[0] + (fr[1] && fr[2] !== 'r' ? ' [' + fr[1] + ']' : '') + ' (' + fmt(n.v, e) + ', ' + pct(n.v, tree.v);
  if (base) s += ', was ' + pct(n.b, base.v);
  return s + ')';
}

function drawFlame() {
  const box = document.getElementById('flame'), W = box.clientWidth || 1200;
  const top = zoom || tree, scale = top.v ? W / top.v : 0, frag = document.createDocumentFragment();
  const anc = [];
  for (let a = top.p; a && a.f >= 0; a = a.p) anc.unshift(a);
  let boxes = 0, depthMax = 0;
  const put = (n, x, w, d, cls) => {
    if (boxes >= MAX_BOXES) return;
    boxes++;
    if (d > depthMax) depthMax = d;
    const el = document.createElement('div'), fr = D.frames[n.f];
    el.className = 'f' + (cls ? ' ' + cls : '');
    el.style.left = x.toFixed(1) + 'px';
    el.style.width = w.toFixed(1) + 'px';
    el.dataset.d = d;
    el.style.background = base ? diffColor(n) : color(fr);
    el.dataset.name = fr[0];
    el.title = title(n);
    el.textContent = w > 30 ? fr[0] : '';
    el.onclick = () => { zoom = n === zoom ? null : n; drawFlame(); };
    el.onmouseover = () => { document.getElementById('details').textContent = el.title; };
    frag.appendChild(el);
  };
  anc.forEach((a, i) => put(a, 0, W, i, 'anc'));
  const walk = (n, x, d) => {
    put(n, x, n.v * scale, d, '');
    let cx = x;
    const kids = [...n.c.values()].sort((p, q) => D.frames[p.f][0] < D.frames[q.f][0] ? -1 : 1);
    for (const c of kids) {
      const w = c.v * scale;
      if (w >= MIN_W) walk(c, cx, d + 1);
      cx += w;
    }
  };
  if (top === tree) {
    const kids = [...tree.c.values()].sort((p, q) => D.frames[p.f][0] < D.frames[q.f][0] ? -1 : 1);
    let cx = 0;
    for (const c of kids) { const w = c.v * scale; if (w >= MIN_W) walk(c, cx, 0); cx += w; }
  } else {
    walk(top, 0, anc.length);
  }
  const rows = depthMax + 1;
  for (const el of frag.children) {
    const d = +el.dataset.d;
    el.style.top = ((icicle ? d : rows - 1 - d) * ROW) + 'px';
  }
  box.textContent = '';
  box.style.height = (tree.v ? rows * ROW : ROW) + 'px';
  box.appendChild(frag);
  document.getElementById('pruned').textContent = boxes >= MAX_BOXES ?
    `Only the ${MAX_BOXES} widest boxes are drawn: zoom in for more.` : '';
  search();
}

function search() {
  const q = document.getElementById('search').value;
  let re = null;
  try { re = q ? new RegExp(q) : null; } catch (e) { re = null; }
  for (const el of document.querySelectorAll('#flame .f')) el.classList.toggle('hit', !!re && re.test(el.dataset.name));
  // Matched share: the outermost matching nodes of the tree, summed.
  let sum = 0;
  const visit = n => { if (n.f >= 0 && re && re.test(D.frames[n.f][0])) { sum += n.v; return; } for (const c of n.c.values()) visit(c); };
  if (re) visit(zoom || tree);
  document.getElementById('matched').textContent = re ? 'Matched: ' + pct(sum, (zoom || tree).v) : '';
}

function drawTable(vals) {
  const e = D.events[ev], stacks = e.stacks, rows = new Map();
  let total = 0;
  for (let i = 0; i < stacks.length; i++) {
    const x = vals[i], s = stacks[i];
    if (!x) continue;
    total += x;
    const seen = new Set();
    for (let j = 0; j < s.length; j++) {
      const fr = D.frames[s[j]];
      if (fr[2] === 'r') continue;
      const k = fr[0] + '\u0001' + fr[1];
      let r = rows.get(k);
      if (!r) { r = { name: fr[0], object: fr[1], self: 0, total: 0 }; rows.set(k, r); }
      if (!seen.has(k)) { seen.add(k); r.total += x; }
      if (j === s.length - 1) r.self += x;
    }
  }
  const list = [...rows.values()];
  const by = { self: (a, b) => b.self - a.self || b.total - a.total, total: (a, b) => b.total - a.total || b.self - a.self,
    name: (a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0, object: (a, b) => a.object < b.object ? -1 : a.object > b.object ? 1 : 0 };
  list.sort(by[sortKey]);
  const body = document.querySelector('#table tbody');
  body.textContent = '';
  for (const r of list.slice(0, MAX_ROWS)) {
    const tr = document.createElement('tr');
    for (const [t, n] of [[pct(r.self, total), 1], [pct(r.total, total), 1], [fmt(r.self, e), 1], [r.name, 0], [r.object, 0]]) {
      const td = document.createElement('td');
      td.textContent = t;
      if (n) td.className = 'n';
      tr.appendChild(td);
    }
    tr.onclick = () => { document.getElementById('search').value = r.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); search(); };
    body.appendChild(tr);
  }
  document.getElementById('tablenote').textContent = list.length > MAX_ROWS ? `${MAX_ROWS} of ${list.length} functions shown` : '';
  for (const th of document.querySelectorAll('#table th')) th.classList.toggle('sorted', th.dataset.k === sortKey);
}

// The heat map: a column per second, a row per bucket of it (FlameScope's layout).
function drawHeat() {
  const e = D.events[ev], per = Math.max(1, Math.round(1e9 / D.bucket_ns)), cols = Math.max(1, Math.ceil(D.n_buckets / per));
  const cw = Math.max(3, Math.min(16, Math.floor(1150 / cols))), ch = Math.max(3, Math.min(8, Math.floor(200 / per)));
  const cv = document.getElementById('heat'), sums = new Float64Array(cols * per);
  for (let i = 0; i < e.cells.length; i += 3) sums[e.cells[i + 1]] += e.cells[i + 2];
  let max = 0;
  for (const s of sums) if (s > max) max = s;
  cv.width = cols * cw; cv.height = per * ch;
  const g = cv.getContext('2d');
  g.fillStyle = '#fff'; g.fillRect(0, 0, cv.width, cv.height);
  for (let b = 0; b < sums.length; b++) {
    if (!sums[b]) continue;
    const t = sums[b] / max, v = Math.round(255 - 200 * t);
    g.fillStyle = `rgb(255,${v},${Math.round(v * 0.8)})`;
    g.fillRect(Math.floor(b / per) * cw, (b % per) * ch, cw - 1, ch - 1);
  }
  if (range) {
    g.fillStyle = 'rgba(0,0,255,0.25)';
    for (let b = range[0]; b < range[1] && b < sums.length; b++) g.fillRect(Math.floor(b / per) * cw, (b % per) * ch, cw - 1, ch - 1);
  }
  cv.onmousedown = d => {
    const at = m => { const r = cv.getBoundingClientRect(); const x = Math.floor((m.clientX - r.left) / cw), y = Math.floor((m.clientY - r.top) / ch); return Math.max(0, Math.min(cols * per - 1, x * per + Math.min(per - 1, Math.max(0, y)))); };
    const a = at(d);
    cv.onmouseup = u => { const b = at(u); cv.onmouseup = null; setRange(Math.min(a, b), Math.max(a, b) + 1); };
  };
}

function setRange(a, b) {
  const s = D.bucket_ns / 1e9;
  location.hash = `t=${(a * s).toFixed(3)}:${(b * s).toFixed(3)}` + (ev !== D.initial ? '&e=' + D.events[ev].name : '');
}

function readHash() {
  const h = new URLSearchParams(location.hash.replace(/^#/, ''));
  range = null;
  const t = h.get('t');
  if (t && /^[0-9.]*:[0-9.]*$/.test(t)) {
    const [a, b] = t.split(':'), s = D.bucket_ns / 1e9;
    const lo = a ? Math.floor(parseFloat(a) / s + 1e-9) : 0, hi = b ? Math.ceil(parseFloat(b) / s - 1e-9) : D.n_buckets;
    if (hi > lo) range = [lo, hi];
  }
  const e = h.get('e');
  const i = e ? D.events.findIndex(x => x.name === e) : -1;
  if (i >= 0) ev = i;
}

function render() {
  const t0 = performance.now(), e = D.events[ev], vals = stackValues(e);
  tree = buildTree(e.stacks, vals);
  zoom = null;
  base = null;
  if (D.base) {
    const be = D.base.events.find(x => x.name === e.name);
    if (be) { base = buildTree(be.stacks, be.values); pair(tree, base); }
  }
  const s = D.bucket_ns / 1e9;
  document.getElementById('summary').textContent = e.name + ': ' + fmt(tree.v, e) +
    (range ? `, ${(range[0] * s).toFixed(2)} s to ${(range[1] * s).toFixed(2)} s` : ', whole recording') +
    (base ? ' (red grew, blue shrank, against ' + D.base.name + ')' : '');
  document.getElementById('event').value = String(ev);
  drawHeat();
  drawFlame();
  drawTable(vals);
  document.body.dataset.renderMs = (performance.now() - t0).toFixed(0);	// for benchmarks
}

function init() {
  document.getElementById('title').textContent = D.title;
  // What the recording lost, as every report says it.
  for (const l of D.losses) { const p = document.createElement('div'); p.className = 'loss'; p.textContent = 'Warning: ' + l; document.getElementById('losses').appendChild(p); }
  const sel = document.getElementById('event');
  D.events.forEach((e, i) => { const o = document.createElement('option'); o.value = String(i); o.textContent = e.name; sel.appendChild(o); });
  sel.style.display = D.events.length > 1 ? '' : 'none';
  if (!D.events.length) { document.getElementById('summary').textContent = 'No samples match.'; return; }
  sel.onchange = () => { ev = +sel.value; range = null; history.replaceState(null, '', '#e=' + D.events[ev].name); render(); };
  document.getElementById('search').oninput = search;
  document.getElementById('icicle').onclick = () => { icicle = !icicle; drawFlame(); };
  document.getElementById('reset').onclick = () => { zoom = null; drawFlame(); };
  document.getElementById('all').onclick = () => { history.replaceState(null, '', location.pathname + location.search); readHash(); render(); };
  for (const th of document.querySelectorAll('#table th')) th.onclick = () => { sortKey = th.dataset.k; drawTable(stackValues(D.events[ev])); };
  window.addEventListener('keydown', k => { if ((k.ctrlKey || k.metaKey) && k.key === 'f') { k.preventDefault(); document.getElementById('search').focus(); } });
  window.addEventListener('hashchange', () => { readHash(); render(); });
  readHash();
  render();
}
init();
