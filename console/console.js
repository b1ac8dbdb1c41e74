// The stream-sr console: plain script, no build step. Every call goes to this service's own API,
// with the bearer token (when the service wants one) kept in sessionStorage for this tab.
'use strict';

const TOKEN_KEY = 'stream-sr-token';
const $ = (id) => document.getElementById(id);
const state = { selected: null, rows: new Map(), pollTimer: 0, detailTimer: 0, previewTimer: 0, urls: {}, hls: null, hlsUrl: null, signedOut: false };

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

/** fetch() on this service with the bearer header; a 401 shows the login form. */
async function api(path, init = {}) {
  const headers = new Headers(init.headers || {});
  if (token()) headers.set('Authorization', `Bearer ${token()}`);
  const res = await fetch(path, { ...init, headers, cache: 'no-store' });
  if (res.status === 401) {
    signedOut();
    throw new Error('unauthorized');
  }
  return res;
}

async function json(path, init) {
  const res = await api(path, init);
  const body = await res.json();
  if (!res.ok) throw new Error(body && body.error ? body.error : `${res.status} ${res.statusText}`);
  return body;
}

function signedOut() {
  state.signedOut = true;
  clearTimeout(state.pollTimer);
  stopDetails();
  $('overview').hidden = true;
  $('details').hidden = true;
  $('login').hidden = false;
  $('service').textContent = 'sign in to see the pipelines';
  if (token()) $('login-error').textContent = 'That token was refused.';
  sessionStorage.removeItem(TOKEN_KEY);
  $('token').focus();
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
  $('token').value = '';
  $('login-error').textContent = '';
  $('login').hidden = true;
  state.signedOut = false;
  poll();
});

// ---- the table ----

const fmt = (v, digits = 1) => (v === null || v === undefined ? '–' : Number(v).toFixed(digits));

const COLUMNS = [
  ['id', 'Pipeline', (p) => p.id],
  ['st', 'State', null],
  ['desc', 'Input → output', (p) => p.description || '–'],
  ['num', 'Frames in / out', (p) => `${p.framesIn} / ${p.framesOut}`],
  ['num', 'fps in / out', (p) => `${fmt(p.inputFps)} / ${fmt(p.outputFps)}`],
  ['num', 'Latency p50 / p95', (p) => (p.latencyMs.p50 === null ? '–' : `${fmt(p.latencyMs.p50, 0)} / ${fmt(p.latencyMs.p95, 0)} ms`)],
  ['num', 'Drops', (p) => String(p.drops)],
  ['num', 'Fallbacks', (p) => String(p.fallbacks)],
  ['num', 'Restarts', (p) => String(p.restarts)],
  ['num', 'Reconnects', (p) => String(p.reconnects)],
  ['err', 'Last error', (p) => (p.lastError ? `${p.lastError.message} (${new Date(p.lastError.at).toLocaleTimeString()})` : '–')],
];

const ACTIVE = new Set(['starting', 'running', 'restarting', 'reconnecting', 'stopping']);

function makeRow(p) {
  const tr = document.createElement('tr');
  tr.dataset.id = p.id;
  for (const [cls, label] of COLUMNS) {
    const td = document.createElement('td');
    td.className = cls;
    td.dataset.label = label;
    tr.append(td);
  }
  const actions = document.createElement('td');
  actions.className = 'actions';
  actions.dataset.label = 'Actions';
  const start = button('Start', `start ${p.id}`, () => act(p.id, 'start'));
  const stop = button('Stop', `stop ${p.id}`, () => act(p.id, 'stop'));
  const details = button('Details', `details of ${p.id}`, () => select(p.id));
  start.className = 'start';
  stop.className = 'stop';
  details.className = 'show';
  actions.append(start, ' ', stop, ' ', details);
  tr.append(actions);
  return tr;
}

function button(text, label, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  b.setAttribute('aria-label', label);
  b.addEventListener('click', onClick);
  return b;
}

function fillRow(tr, p) {
  const cells = tr.children;
  COLUMNS.forEach(([, , value], i) => {
    if (value) cells[i].textContent = value(p);
  });
  const badge = document.createElement('span');
  badge.className = `state state-${p.state}`;
  badge.textContent = p.state;
  cells[1].replaceChildren(badge);
  tr.querySelector('.start').disabled = ACTIVE.has(p.state);
  tr.querySelector('.stop').disabled = !ACTIVE.has(p.state) || p.state === 'stopping';
  tr.classList.toggle('selected', state.selected === p.id);
}

function render(list) {
  const body = $('pipelines').tBodies[0];
  const seen = new Set();
  for (const p of list) {
    seen.add(p.id);
    let tr = state.rows.get(p.id);
    if (!tr) {
      tr = makeRow(p);
      state.rows.set(p.id, tr);
      body.append(tr);
    }
    fillRow(tr, p);
  }
  for (const [id, tr] of state.rows) if (!seen.has(id)) (tr.remove(), state.rows.delete(id));
}

async function act(id, what) {
  try {
    const p = await json(`/pipelines/${encodeURIComponent(id)}/${what}`, { method: 'POST' });
    const tr = state.rows.get(id);
    if (tr) fillRow(tr, p);
    $('api-error').textContent = '';
  } catch (err) {
    if (!state.signedOut) $('api-error').textContent = `${what} ${id}: ${err.message}`;
  }
}

async function poll() {
  clearTimeout(state.pollTimer);
  try {
    const [health, list] = await Promise.all([json('/health'), json('/pipelines')]);
    $('login').hidden = true;
    $('overview').hidden = false;
    $('service').textContent = `${health.pipelines} pipeline${health.pipelines === 1 ? '' : 's'}, up ${duration(health.uptimeSeconds)}`;
    $('api-error').textContent = '';
    render(list);
    if (!state.selected && list.length) select(list[0].id, false);
  } catch (err) {
    if (state.signedOut) return;
    $('api-error').textContent = `the service did not answer: ${err.message}`;
  }
  state.pollTimer = setTimeout(poll, 1000);
}

function duration(s) {
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${s % 60} s` : `${s} s`;
}

// ---- one pipeline's details: charts, preview, player, log ----

function select(id, focus = true) {
  stopDetails();
  state.selected = id;
  for (const [rid, tr] of state.rows) tr.classList.toggle('selected', rid === id);
  $('details').hidden = false;
  $('details-title').textContent = `Pipeline ${id}`;
  $('log').textContent = '';
  setPreview(null, null);
  if (focus) $('details-title').scrollIntoView({ behavior: 'smooth', block: 'start' });
  details();
  preview();
}

function stopDetails() {
  clearTimeout(state.detailTimer);
  clearTimeout(state.previewTimer);
  if (state.hls) state.hls.destroy();
  state.hls = null;
  state.hlsUrl = null;
  $('player').hidden = true;
}

async function details() {
  const id = state.selected;
  try {
    const h = await json(`/pipelines/${encodeURIComponent(id)}/history`);
    if (id !== state.selected) return;
    drawCharts(h.samples);
    const log = $('log');
    const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.textContent = h.log.map((l) => `${l.at.slice(11, 19)}  ${l.line}`).join('\n') || '(nothing logged yet)';
    if (atEnd) log.scrollTop = log.scrollHeight;
    player(h.hls[0]);
  } catch (err) {
    if (state.signedOut) return;
    $('api-error').textContent = `history of ${id}: ${err.message}`;
  }
  state.detailTimer = setTimeout(details, 2000);
}

const SVG = 'http://www.w3.org/2000/svg';
const COLORS = ['#0b63c5', '#d9480f'];

/** A line chart of the last minutes into an <svg viewBox="0 0 320 120">, y from 0. */
function chart(svg, samples, series) {
  const W = 320, H = 120, L = 34, R = 6, T = 8, B = 18;
  const nodes = [];
  const el = (name, attrs, text) => {
    const n = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = text;
    nodes.push(n);
    return n;
  };
  const values = series.flatMap((s) => samples.map(s.value)).filter((v) => v !== null && Number.isFinite(v));
  const max = niceMax(Math.max(1, ...values));
  const t1 = samples.length ? samples[samples.length - 1].t : Date.now();
  const span = 5 * 60 * 1000;
  const x = (t) => L + ((t - (t1 - span)) / span) * (W - L - R);
  const y = (v) => T + (1 - v / max) * (H - T - B);
  for (const f of [0, 0.5, 1]) {
    el('line', { x1: L, x2: W - R, y1: y(max * f), y2: y(max * f), stroke: '#e3e6eb' });
    el('text', { x: L - 4, y: y(max * f) + 3, 'text-anchor': 'end', 'font-size': 9, fill: '#5b6470' }, shortNumber(max * f));
  }
  el('text', { x: L, y: H - 4, 'font-size': 9, fill: '#5b6470' }, '−5 min');
  el('text', { x: W - R, y: H - 4, 'font-size': 9, fill: '#5b6470', 'text-anchor': 'end' }, 'now');
  series.forEach((s, i) => {
    let d = '';
    let pen = 'M';
    for (const p of samples) {
      const v = s.value(p);
      if (v === null || !Number.isFinite(v)) {
        pen = 'M';
        continue;
      }
      d += `${pen}${x(p.t).toFixed(1)},${y(v).toFixed(1)}`;
      pen = 'L';
    }
    if (d) el('path', { d, fill: 'none', stroke: COLORS[i], 'stroke-width': 1.5 });
    el('text', { x: L + 6 + i * 70, y: T + 8, 'font-size': 9, fill: COLORS[i] }, s.label);
  });
  if (!samples.length) el('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', 'font-size': 10, fill: '#5b6470' }, 'no samples yet');
  svg.replaceChildren(...nodes);
}

function niceMax(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= v * 1.05) || 10 * p;
}

function shortNumber(v) {
  return v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v >= 10 ? v.toFixed(0) : v.toFixed(1);
}

function drawCharts(samples) {
  chart($('chart-fps'), samples, [{ label: 'in', value: (s) => s.inputFps }, { label: 'out', value: (s) => s.outputFps }]);
  chart($('chart-latency'), samples, [{ label: 'p50', value: (s) => s.latencyP50Ms }, { label: 'p95', value: (s) => s.latencyP95Ms }]);
  const perSecond = samples.map((s, i) => {
    const prev = samples[i - 1];
    return { t: s.t, rate: prev ? Math.max(0, s.drops - prev.drops) / Math.max(0.001, (s.t - prev.t) / 1000) : null };
  });
  chart($('chart-drops'), perSecond, [{ label: 'dropped', value: (s) => s.rate }]);
}

/** Refreshes the before/after pictures about once a second, only while the page is visible. */
async function preview() {
  const id = state.selected;
  if (!document.hidden) {
    try {
      const after = await api(`/pipelines/${encodeURIComponent(id)}/preview.png?side=after`);
      if (after.status === 200) {
        const index = after.headers.get('x-frame-index');
        let before = await api(`/pipelines/${encodeURIComponent(id)}/preview.png?side=before`);
        // a new pair may have come between the two requests: both sides must show the same frame
        if (before.status === 200 && before.headers.get('x-frame-index') !== index) before = null;
        if (id === state.selected && before && before.status === 200) {
          setPreview(await before.blob(), await after.blob());
          $('preview-info').textContent = `frame ${index}, ${new Date(after.headers.get('last-modified')).toLocaleTimeString()}`;
        }
      } else if (id === state.selected && !$('after').src) {
        $('preview-info').textContent = 'no picture yet: the pipeline has not given a frame since the preview was asked for';
      }
    } catch (err) {
      if (state.signedOut) return;
    }
  }
  if (id === state.selected) state.previewTimer = setTimeout(preview, 1000);
}

function setPreview(beforeBlob, afterBlob) {
  for (const [side, blob] of [['before', beforeBlob], ['after', afterBlob]]) {
    if (state.urls[side]) URL.revokeObjectURL(state.urls[side]);
    state.urls[side] = blob ? URL.createObjectURL(blob) : null;
    if (blob) $(side).src = state.urls[side];
    else $(side).removeAttribute('src');
  }
  $('no-preview').hidden = Boolean(afterBlob);
  $('before').hidden = !beforeBlob;
  $('after').hidden = !afterBlob;
  split();
}

function split() {
  const v = Number($('split').value);
  $('before').style.clipPath = `inset(0 ${100 - v}% 0 0)`;
  $('split').setAttribute('aria-valuetext', `${v}% before, ${100 - v}% after`);
}
$('split').addEventListener('input', split);

/** The live output of an HLS pipeline, through hls.js served by stream-sr itself. */
function player(url) {
  if (!url || url === state.hlsUrl || !window.Hls || !window.Hls.isSupported()) return;
  state.hlsUrl = url;
  const hls = new window.Hls({
    liveSyncDurationCount: 2,
    xhrSetup: (xhr) => {
      if (token()) xhr.setRequestHeader('Authorization', `Bearer ${token()}`);
    },
  });
  hls.on(window.Hls.Events.ERROR, (_event, data) => {
    if (data.fatal) $('preview-info').textContent = `live player: ${data.details}`;
  });
  hls.loadSource(url);
  hls.attachMedia($('video'));
  state.hls = hls;
  $('player').hidden = false;
}

/** Asks for the token first when the service wants one, so no call goes out without it. */
async function begin() {
  let config = { tokenRequired: false };
  try {
    config = await (await fetch('/console/config.json', { cache: 'no-store' })).json();
  } catch (err) {
    $('service').textContent = `the service did not answer: ${err.message}`;
  }
  if (config.tokenRequired && !token()) signedOut();
  else poll();
}

begin();
