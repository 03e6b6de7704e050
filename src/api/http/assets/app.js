// watchd's dashboard: renders /ui/events (a snapshot, then each unit that changes) and sends toggles to
// /ui/command. Everything shown comes from apps and remote servers: it is only ever set as text, never as HTML.
'use strict';

const KINDS = ['app', 'service', 'check'];
const TIMELINE = 60; // entries shown (the server's kTimelineLength)
const units = new Map();   // "kind/id" -> unit JSON
const secrets = new Map(); // "kind/id" -> the secret typed in this page (never stored)
const openDetails = new Set();
let started = 0;

const $ = (id) => document.getElementById(id);
const key = (u) => u.kind + '/' + u.id;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('data-') || k === 'title' || k === 'id' || k === 'type' || k === 'aria-label') e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function duration(ms) {
  if (ms < 0) ms = 0;
  let s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (d) return d + 'd ' + h + 'h';
  if (h) return h + 'h ' + m + 'm';
  if (m) return m + 'm ' + s + 's';
  return s + 's';
}

function latency(us) {
  if (!us) return '–';
  if (us < 1000) return us + ' µs';
  if (us < 1000000) return (us / 1000).toFixed(us < 10000 ? 1 : 0) + ' ms';
  return (us / 1000000).toFixed(2) + ' s';
}

function when(ms) { return ms ? new Date(ms).toLocaleString() : '–'; }

function lastExit(u) {
  if (u.last_signal) return 'signal ' + u.last_signal;
  if (u.last_exit < 0) return '–';
  return String(u.last_exit);
}

function fact(label, value, cls) {
  return el('div', {}, el('dt', { text: label }), el('dd', { class: cls, text: value }));
}

function timeline(u) {
  const bars = el('div', { class: 'timeline', 'aria-label': 'Recent history' });
  const t = u.timeline || [];
  if (!t.length) {
    bars.append(el('span', { class: 'none', text: u.kind === 'check' ? 'no probe yet' : 'no past runs yet' }));
    return bars;
  }
  const maxLat = Math.max(1, ...t.map((x) => x.latency_us || 0));
  for (const x of t) {
    let title;
    if (u.kind === 'check') {
      title = when(x.at) + (x.ok ? ' · up · ' + latency(x.latency_us) : ' · down · ' + (x.error || ''));
    } else {
      const end = (x.signal ? 'signal ' + x.signal : x.result ? x.result : 'exit ' + x.exit) +
                  (x.outcome === 'stopped' ? ' (stopped)' : '');
      title = when(x.start) + ' → ' + when(x.end) + ' · ran ' + duration(x.end - x.start) + ' · ' + end;
    }
    const bar = el('span', { class: x.outcome === 'stopped' ? 'stopped' : x.ok ? 'ok' : 'bad', title });
    if (u.kind === 'check' && x.ok) bar.style.height = Math.max(25, Math.round(100 * (x.latency_us || 0) / maxLat)) + '%';
    bars.append(bar);
  }
  return bars;
}

function actions(u) {
  const row = el('div', { class: 'actions' });
  const add = (toggle, label, enabled) =>
    row.append(el('button', { type: 'button', 'data-toggle': toggle, text: label, disabled: !enabled,
                              onclick: () => command(u, toggle) }));
  const up = u.desired === 'up';
  add('start', 'Start', !up || u.disabled);
  add('stop', 'Stop', up);
  add('restart', u.kind === 'check' ? 'Check now' : 'Restart', u.state !== 'inactive' || up);
  if (u.kind !== 'check') add('run-once', 'Run once', true);
  return row;
}

function details(u) {
  const d = el('details', { class: 'more' });
  d.open = openDetails.has(key(u));
  d.addEventListener('toggle', () => {
    if (d.open) {
      openDetails.add(key(u));
      const pre = d.querySelector('.logs');
      if (pre && !pre.dataset.loaded) loadLogs(u, d); // a re-rendered card keeps its lines (see place())
    }
    else openDetails.delete(key(u));
  });
  d.append(el('summary', { text: 'Details' }));
  const kv = Object.entries(u.keyvalue || {});
  const rows = [['Instance', u.instance || '–'], ['Desired', u.desired + (u.run_once ? ' (run once)' : '')],
                ['Last seen', when(u.last_seen)]];
  if (u.keepalive) rows.push(['Keepalive', u.keepalive], ['Pings', String(u.pings)]);
  if (u.systemd) rows.push(['systemd', [u.systemd.load, u.systemd.active, u.systemd.sub, u.systemd.result].filter(Boolean).join(' · ')]);
  if (u.check) rows.push(['Probes', u.check.probes + ' (' + u.check.failed + ' failed)']);
  for (const [k, v] of kv) rows.push(['kv: ' + k, v]);
  const table = el('table', { class: 'kv' });
  for (const [k, v] of rows) table.append(el('tr', {}, el('td', { text: k }), el('td', { text: v })));
  d.append(table);
  if (u.kind === 'app') {
    d.append(el('pre', { class: 'logs', text: 'loading output…' }));
  }
  return d;
}

async function loadLogs(u, d) {
  const pre = d.querySelector('.logs');
  if (!pre) return;
  try {
    const r = await fetch('/ui/logs?group=app&id=' + encodeURIComponent(u.id), { cache: 'no-store' });
    const j = await r.json();
    if (!r.ok) { pre.textContent = j.error || ('HTTP ' + r.status); return; }
    const where = j.source === 'files' ? 'from its log files in ' + j.where : 'as sent to the journal';
    pre.textContent = j.lines.length ? j.lines.join('\n') : '(no output yet, ' + where + ')';
    pre.title = 'Last lines of output, ' + where;
    pre.dataset.loaded = '1';
    pre.scrollTop = pre.scrollHeight;
  } catch (e) {
    pre.textContent = 'cannot read the output: ' + e;
  }
}

function card(u) {
  const c = el('article', { class: 'card tone-' + u.tone, id: 'unit-' + u.kind + '-' + u.id,
                            'data-kind': u.kind, 'data-id': u.id, 'data-state': u.state, 'data-tone': u.tone });
  c.append(el('div', { class: 'card-head' },
              el('span', { class: 'dot' }), el('h3', { text: u.name, title: u.name }),
              el('span', { class: 'state', text: u.check ? (u.state === 'running' ? 'up' : u.state === 'failed' ? 'down' : u.state) : u.state })));
  let sub = u.kind + ' · ' + u.id;
  if (u.check) sub += ' · ' + u.check.protocol + ' ' + u.check.endpoint;
  if (u.systemd) sub += ' · ' + u.systemd.unit;
  if (u.keepalive) sub += ' · keepalive ' + u.keepalive;
  c.append(el('div', { class: 'sub', text: sub }));
  const facts = el('dl', { class: 'facts' });
  const running = u.started > 0;
  let since = running ? u.started : 0;
  if (u.check) {
    since = u.check.since || 0;
    facts.append(fact('Latency', latency(u.check.latency_us), 'latency'));
    facts.append(fact(u.state === 'failed' ? 'Down for' : 'Up for',
                      since ? (u.check.since_known ? '' : '≥ ') + duration(Date.now() - since) : '–', 'uptime'));
    facts.append(fact('Probes', String(u.check.probes), 'probes'));
    facts.append(fact('Failed', String(u.check.failed), 'failed'));
  } else {
    facts.append(fact('Uptime', running ? duration(Date.now() - u.started) : '–', 'uptime'));
    facts.append(fact('PID', u.pid ? String(u.pid) : '–', 'pid'));
    facts.append(fact('Restarts', String(u.restarts), 'restarts'));
    facts.append(fact('Last exit', lastExit(u), 'last-exit'));
  }
  const up = facts.querySelector('.uptime');
  if (up && since) {
    up.dataset.since = String(since);
    if (u.check && !u.check.since_known) up.dataset.prefix = '≥ '; // as far back as the kept probes go
  }
  c.append(facts);
  const error = u.check ? u.check.error : u.error;
  if (error) c.append(el('p', { class: 'error', text: error }));
  c.append(timeline(u));
  c.append(actions(u));
  c.append(details(u));
  return c;
}

function visible(u) {
  const f = $('filter').value.trim().toLowerCase();
  if ($('only-bad').checked && u.tone !== 'bad' && u.tone !== 'unknown') return false;
  return !f || u.id.toLowerCase().includes(f) || u.name.toLowerCase().includes(f);
}

function place(u) {
  const grid = $('grid-' + u.kind);
  const old = document.getElementById('unit-' + u.kind + '-' + u.id);
  const fresh = card(u);
  fresh.hidden = !visible(u);
  const oldLogs = old && old.querySelector('.logs[data-loaded]');
  const newLogs = fresh.querySelector('.logs');
  if (oldLogs && newLogs) {
    newLogs.textContent = oldLogs.textContent;
    newLogs.title = oldLogs.title;
    newLogs.dataset.loaded = '1';
  }
  if (old) { old.replaceWith(fresh); return; }
  // Keep the cards in id order.
  const after = [...grid.children].find((c) => c.dataset.id > u.id);
  grid.insertBefore(fresh, after || null);
}

function summarize() {
  const s = $('summary');
  s.replaceChildren();
  let bad = 0;
  for (const kind of KINDS) {
    const list = [...units.values()].filter((u) => u.kind === kind);
    const section = $('section-' + kind);
    section.hidden = list.length === 0;
    section.querySelector('.count').textContent = list.length ? '(' + list.length + ')' : '';
    if (!list.length) continue;
    const down = list.filter((u) => u.tone === 'bad').length;
    const ok = list.filter((u) => u.tone === 'ok').length;
    bad += down;
    const label = kind === 'check' ? 'checks' : kind + 's';
    s.append(el('span', { class: 'pill' + (down ? ' bad' : ''),
                          text: label + ': ' + ok + ' ' + (kind === 'check' ? 'up' : 'running') + (down ? ', ' + down + ' ' + (kind === 'check' ? 'down' : 'failing') : '') }));
  }
  $('empty').hidden = units.size !== 0;
  document.title = (bad ? '✗ ' + bad + ' · ' : '') + 'watchd' + ($('host').textContent ? ' · ' + $('host').textContent : '');
}

function renderAll() {
  for (const kind of KINDS) $('grid-' + kind).replaceChildren();
  for (const u of [...units.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) place(u);
  summarize();
  highlight();
}

function tick() {
  const now = Date.now();
  for (const e of document.querySelectorAll('[data-since]'))
    e.textContent = (e.dataset.prefix || '') + duration(now - Number(e.dataset.since));
}

function toast(text, bad) {
  const t = $('toast');
  t.textContent = text;
  t.className = 'toast' + (bad ? ' bad' : '');
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, bad ? 6000 : 2500);
}

function askSecret(u, message) {
  return new Promise((resolve) => {
    const dlg = $('secret-dialog');
    $('secret-prompt').textContent = 'The toggles of ' + u.kind + ' "' + u.name + '" need its secret.';
    $('secret-error').hidden = !message;
    $('secret-error').textContent = message || '';
    $('secret-input').value = '';
    dlg.onclose = () => resolve(dlg.returnValue === 'ok' ? $('secret-input').value : null);
    dlg.showModal();
    $('secret-input').focus();
  });
}

async function command(u, toggle) {
  let secret = secrets.get(key(u));
  if (u.secret && secret === undefined) {
    secret = await askSecret(u);
    if (secret === null) return;
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const body = { kind: u.kind, id: u.id, toggle };
    if (secret !== undefined) body.secret = secret;
    let r, j;
    try {
      r = await fetch('/ui/command', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                       body: JSON.stringify(body) });
      j = await r.json();
    } catch (e) {
      toast('watchd did not answer: ' + e, true);
      return;
    }
    if (r.ok) {
      if (secret !== undefined) secrets.set(key(u), secret);
      toast(toggle + ': ' + u.name);
      return;
    }
    if (r.status === 403 && j.field === 'secret') {
      secrets.delete(key(u));
      secret = await askSecret(u, j.error);
      if (secret === null) return;
      continue;
    }
    toast(toggle + ' ' + u.name + ': ' + (j.error || 'HTTP ' + r.status), true);
    return;
  }
}

function highlight() {
  const m = location.hash.match(/^#(app|service|check)\/(.+)$/);
  for (const c of document.querySelectorAll('.card.highlight')) c.classList.remove('highlight');
  if (!m) return;
  const c = document.getElementById('unit-' + m[1] + '-' + decodeURIComponent(m[2]));
  if (!c) return;
  c.classList.add('highlight');
  c.hidden = false;
  c.scrollIntoView({ block: 'center' });
}

function connect() {
  const conn = $('conn');
  const es = new EventSource('/ui/events');
  es.addEventListener('snapshot', (ev) => {
    const s = JSON.parse(ev.data);
    $('host').textContent = s.host;
    $('instance').textContent = 'watchd instance ' + s.instance + ', up since ' + when(s.started);
    started = s.started;
    units.clear();
    for (const u of s.units) units.set(key(u), u);
    renderAll();
    conn.textContent = 'live';
    conn.className = 'conn live';
  });
  es.addEventListener('unit', (ev) => {
    const u = JSON.parse(ev.data);
    const old = units.get(key(u));
    if (u.timeline_partial && old) { // only the new runs or probes: appended to those the page has
      const last = old.timeline.length ? old.timeline[old.timeline.length - 1].seq : 0;
      u.timeline = old.timeline.concat(u.timeline.filter((x) => x.seq > last)).slice(-TIMELINE);
    }
    units.set(key(u), u);
    place(u);
    summarize();
  });
  es.addEventListener('removed', (ev) => {
    const u = JSON.parse(ev.data);
    units.delete(key(u));
    const c = document.getElementById('unit-' + u.kind + '-' + u.id);
    if (c) c.remove();
    summarize();
  });
  es.onerror = () => { conn.textContent = 'reconnecting'; conn.className = 'conn lost'; };
}

$('filter').addEventListener('input', () => { for (const u of units.values()) place(u); });
$('only-bad').addEventListener('change', () => { for (const u of units.values()) place(u); });
window.addEventListener('hashchange', highlight);
setInterval(tick, 1000);
setInterval(() => { // open app details: their output, every 5 s
  if (document.hidden) return;
  for (const k of openDetails) {
    const u = units.get(k);
    const c = u && document.getElementById('unit-' + u.kind + '-' + u.id);
    if (u && u.kind === 'app' && c) loadLogs(u, c.querySelector('details'));
  }
}, 5000);
connect();
