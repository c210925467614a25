// The page of `prefdyn serve` (src/server/): a list of runs and experiments, the figures of the runs
// ticked (one run: its figures; two or more: overlaid), redrawn when a server-sent "metrics" event
// says a ticked run's metrics.jsonl grew. Figures arrive as SVG rendered on the server, so the page
// needs no chart library and no network beyond its own server. The URL hash (#run=ID&run=ID) keeps
// the selection.

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>prefdyn dashboard</title>
<style>
  body { font-family: 'DejaVu Sans', system-ui, sans-serif; margin: 0; display: flex; min-height: 100vh; color: #222; }
  nav { width: 300px; padding: 12px; border-right: 1px solid #ddd; background: #fafafa; overflow-y: auto; }
  main { flex: 1; padding: 12px 20px; overflow-x: auto; }
  h1 { font-size: 16px; margin: 0 0 8px; }
  h2 { font-size: 13px; margin: 14px 0 4px; color: #555; text-transform: uppercase; letter-spacing: .04em; }
  ul { list-style: none; padding: 0; margin: 0; }
  li { margin: 3px 0; font-size: 13px; word-break: break-all; }
  li a { margin-left: 6px; font-size: 12px; }
  figure { margin: 0 0 24px; }
  figcaption { font-size: 12px; color: #555; max-width: 760px; margin-top: 4px; }
  #status { font-size: 12px; color: #555; min-height: 1.2em; }
  .root { font-size: 11px; color: #888; }
</style>
</head>
<body>
<nav>
  <h1>prefdyn</h1>
  <div id="status">loading...</div>
  <h2>Runs</h2>
  <ul id="runs"></ul>
  <h2>Experiments</h2>
  <ul id="experiments"></ul>
</nav>
<main id="figures"></main>
<script src="/dashboard.js"></script>
</body>
</html>
`;

export const DASHBOARD_JS = `'use strict';
const $ = (id) => document.getElementById(id);
let entries = [];
let selected = [];
let events;
let drawing = false;
let again = false;

function fileUrl(e, name) {
  const rel = e.id.split('/').slice(1).map(encodeURIComponent);
  return '/files/' + [e.id.split('/')[0], ...rel, encodeURIComponent(name)].join('/');
}

function link(e, name) {
  const a = document.createElement('a');
  a.href = fileUrl(e, name);
  a.textContent = name;
  a.target = '_blank';
  a.rel = 'noopener';
  return a;
}

function renderList() {
  const runs = $('runs');
  const exps = $('experiments');
  runs.replaceChildren();
  exps.replaceChildren();
  for (const e of entries) {
    const li = document.createElement('li');
    li.dataset.id = e.id;
    if (e.kind === 'run') {
      const label = document.createElement('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.value = e.id;
      box.checked = selected.includes(e.id);
      box.addEventListener('change', () => {
        selected = entries.filter((x) => x.kind === 'run' && document.querySelector('input[value="' + CSS.escape(x.id) + '"]').checked).map((x) => x.id);
        location.hash = selected.map((id) => 'run=' + encodeURIComponent(id)).join('&');
        select();
      });
      label.append(box, ' ' + e.label);
      li.append(label);
    } else li.append(e.label);
    for (const f of e.files) if (f !== 'config.json') li.append(link(e, f));
    const root = document.createElement('div');
    root.className = 'root';
    root.textContent = e.root;
    li.append(root);
    (e.kind === 'run' ? runs : exps).append(li);
  }
  if (entries.length === 0) $('status').textContent = 'no runs or experiments under the given folders';
}

async function draw() {
  if (drawing) { again = true; return; }
  drawing = true;
  try {
    do {
      again = false;
      if (selected.length === 0) { $('figures').replaceChildren(); $('status').textContent = 'tick a run to see its figures'; continue; }
      const query = selected.map((id) => 'run=' + encodeURIComponent(id)).join('&');
      const res = await fetch('/api/figures?' + query);
      const body = await res.json();
      if (!res.ok) { $('status').textContent = body.error; continue; }
      const main = $('figures');
      main.replaceChildren();
      for (const f of body.figures) {
        const fig = document.createElement('figure');
        fig.dataset.name = f.name;
        const h = document.createElement('h2');
        h.textContent = f.title;
        const chart = document.createElement('div');
        chart.className = 'chart';
        chart.innerHTML = f.svg;
        const cap = document.createElement('figcaption');
        cap.textContent = f.caption;
        fig.append(h, chart, cap);
        main.append(fig);
      }
      main.dataset.steps = JSON.stringify(body.steps);
      $('status').textContent = selected.length + ' run(s); ' + Object.entries(body.steps).map(([id, n]) => id + ': ' + n + ' steps').join(', ');
    } while (again);
  } finally {
    drawing = false;
  }
}

function select() {
  if (events) events.close();
  events = undefined;
  if (selected.length > 0) {
    events = new EventSource('/api/events?' + selected.map((id) => 'run=' + encodeURIComponent(id)).join('&'));
    events.addEventListener('metrics', () => draw());
  }
  draw();
}

async function start() {
  const res = await fetch('/api/entries');
  entries = await res.json();
  const fromHash = new URLSearchParams(location.hash.slice(1)).getAll('run');
  const runs = entries.filter((e) => e.kind === 'run').map((e) => e.id);
  selected = fromHash.filter((id) => runs.includes(id));
  if (selected.length === 0 && runs.length > 0) selected = [runs[0]];
  renderList();
  select();
  // a run started with the server (train --serve) writes its metrics.jsonl a moment later: look again
  if (runs.length === 0) setTimeout(start, 2000);
}

start();
`;
