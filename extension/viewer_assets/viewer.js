// xraybridge viewer: trace list (/), trace timeline (/trace/<id>) and service map (/map).
// Every value from a document is attacker-controlled: it only ever reaches the page as
// text (textContent, createTextNode, SVG text) or as an attribute set with setAttribute
// on a fixed attribute name; never as markup. The data comes from the JSON API under
// /api/ (docs/viewer.md).
'use strict';

(function () {
  const main = document.getElementById('main');

  // el('div', {class: 'x'}, child, 'text', ...): an element with attributes and children.
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null) e.setAttribute(k, String(v));
    }
    for (const c of children) {
      if (c === undefined || c === null) continue;
      e.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  const SVG = 'http://www.w3.org/2000/svg';
  function sv(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function fmtDuration(s) {
    if (s === null || s === undefined || !isFinite(s)) return '';
    if (s < 1) return (s * 1000).toFixed(s < 0.01 ? 2 : 1) + ' ms';
    return s.toFixed(3) + ' s';
  }
  function fmtMs(ms) { return fmtDuration(ms / 1000); }
  function fmtTime(epoch) {
    if (epoch === null || epoch === undefined) return '';
    const d = new Date(epoch * 1000);
    return d.toISOString().replace('T', ' ').replace('Z', ' UTC');
  }
  function pct(x) { return Math.round(x * 1000) / 10 + '%'; }

  // Outcome word + CSS class of a document or a trace summary.
  function outcome(o) {
    if (o.in_progress) return ['In progress', 'in-progress'];
    if (o.fault) return ['Fault', 'fault'];
    if (o.throttle) return ['Throttle', 'throttle'];
    if (o.error) return ['Error', 'error'];
    return ['OK', 'ok'];
  }
  function badge(o) {
    const [word, cls] = outcome(o);
    return el('span', { class: 'status status-' + cls, 'data-status': cls }, word);
  }

  async function getJSON(url) {
    const r = await fetch(url, { headers: { Accept: 'application/json' } });
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    if (!r.ok) throw new Error((body && body.error) || ('HTTP ' + r.status));
    return body;
  }

  function showError(msg) {
    main.appendChild(el('p', { class: 'error-text', id: 'error' }, msg));
  }

  function setNav(which) {
    document.getElementById('nav-traces').classList.toggle('active', which === 'traces');
    document.getElementById('nav-map').classList.toggle('active', which === 'map');
  }

  // ------------------------------------------------------------ trace list (/)

  // The filter expression the form fields stand for (X-Ray filter expression syntax).
  function quote(s) { return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"'; }
  function buildExpression(f) {
    const parts = [];
    if (f.service) parts.push('service(' + quote(f.service) + ')');
    if (f.status) parts.push(f.status);
    if (f.minDuration) parts.push('duration >= ' + Number(f.minDuration));
    if (f.annotation) {
      const i = f.annotation.indexOf('=');
      if (i > 0) {
        const key = f.annotation.slice(0, i).trim();
        const val = f.annotation.slice(i + 1).trim();
        const lit = /^(true|false|-?\d+(\.\d+)?)$/.test(val) ? val : quote(val.replace(/^"(.*)"$/, '$1'));
        parts.push('annotation.' + key + ' = ' + lit);
      }
    }
    if (f.expr && f.expr.trim()) parts.push(f.expr.trim());
    return parts.join(' AND ');
  }

  async function pageTraces() {
    setNav('traces');
    clear(main);
    const params = new URLSearchParams(location.search);
    const f = {
      service: params.get('service') || '', status: params.get('status') || '',
      minDuration: params.get('min_duration') || '', annotation: params.get('annotation') || '',
      expr: params.get('filter') || '',
    };
    const input = (name, label, value, extra) => el('label', {}, label,
      el('input', Object.assign({ name, id: 'f-' + name, value }, extra || {})));
    const status = el('select', { name: 'status', id: 'f-status' });
    for (const [v, t] of [['', 'any'], ['ok', 'ok'], ['error', 'error (4xx)'],
      ['fault', 'fault (5xx)'], ['throttle', 'throttle (429)']]) {
      const o = el('option', { value: v }, t);
      if (v === f.status) o.selected = true;
      status.appendChild(o);
    }
    const form = el('form', { class: 'filters', id: 'filters' },
      input('service', 'Service', f.service, { placeholder: 'parcel-api' }),
      el('label', {}, 'Status', status),
      input('min_duration', 'Min duration (s)', f.minDuration, { type: 'number', step: 'any', min: '0' }),
      input('annotation', 'Annotation key=value', f.annotation, { placeholder: 'parcel_id=p-1' }),
      input('filter', 'Filter expression', f.expr,
        { class: 'expr', placeholder: 'service("parcel-api") AND responsetime > 1' }),
      el('button', { type: 'submit', id: 'apply' }, 'Apply'));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const q = new URLSearchParams();
      for (const k of ['service', 'status', 'min_duration', 'annotation', 'filter']) {
        const v = form.elements[k].value;
        if (v) q.set(k, v);
      }
      history.pushState(null, '', '/' + (q.toString() ? '?' + q.toString() : ''));
      route();
    });
    main.appendChild(el('h1', {}, 'Traces'));
    main.appendChild(form);
    const expression = buildExpression(f);
    const info = el('p', { class: 'muted', id: 'count' }, 'Loading…');
    main.appendChild(info);
    let data;
    try {
      data = await getJSON('/api/traces?filter=' + encodeURIComponent(expression));
    } catch (e) {
      info.textContent = '';
      showError('Filter error: ' + e.message);
      return;
    }
    info.textContent = data.matched + ' of ' + data.stored + ' stored traces' +
      (expression ? ' match ' + expression : '') + ' (newest first)';
    const table = el('table', { class: 'list', id: 'traces' },
      el('thead', {}, el('tr', {}, ...['Start time', 'Service', 'Method', 'URL', 'HTTP status',
        'Response time', 'Duration', 'Result', 'Segments', 'Trace ID'].map((h) => el('th', {}, h)))));
    const tbody = el('tbody', {});
    for (const t of data.traces) {
      const link = el('a', { href: '/trace/' + encodeURIComponent(t.trace_id), class: 'trace-link' }, t.trace_id);
      const tr = el('tr', { 'data-trace-id': t.trace_id },
        el('td', {}, fmtTime(t.start)),
        el('td', { class: 'service' }, t.root.name + (t.root.origin ? ' (' + t.root.origin + ')' : '')),
        el('td', {}, t.root.method || ''),
        el('td', { class: 'url' }, t.root.url || ''),
        el('td', { class: 'num' }, t.root.status || ''),
        el('td', { class: 'num' }, fmtDuration(t.responsetime)),
        el('td', { class: 'num duration' }, t.in_progress ? 'in progress' : fmtDuration(t.duration)),
        el('td', {}, badge(t)),
        el('td', { class: 'num' }, t.segments),
        el('td', {}, link));
      tbody.appendChild(tr);
    }
    table.appendChild(tbody);
    main.appendChild(table);
    if (!data.traces.length) main.appendChild(el('p', { class: 'muted' }, 'No trace matches.'));
  }

  // ------------------------------------------------------------ trace timeline

  // Builds the tree of a trace's documents: nested subsegments under their segment,
  // separately sent subsegments and segments under the document their parent_id names.
  function buildTree(docs) {
    const last = new Map(); // id -> last document with it (a resend replaces)
    const anon = [];
    for (const d of docs) {
      if (d && typeof d === 'object' && typeof d.id === 'string') last.set(d.id, d);
      else if (d && typeof d === 'object') anon.push(d);
    }
    const byId = new Map();
    const tops = [];
    function node(obj, top, container) {
      const n = { obj, top, container, children: [] };
      if (typeof obj.id === 'string' && !byId.has(obj.id)) byId.set(obj.id, n);
      if (Array.isArray(obj.subsegments)) {
        for (const s of obj.subsegments) if (s && typeof s === 'object') n.children.push(node(s, top, n));
      }
      return n;
    }
    for (const d of [...last.values(), ...anon]) tops.push(node(d, d, null));
    const roots = [];
    for (const n of tops) {
      const p = typeof n.obj.parent_id === 'string' ? byId.get(n.obj.parent_id) : undefined;
      if (p && p !== n) p.children.push(n);
      else roots.push(n);
    }
    const start = (n) => (typeof n.obj.start_time === 'number' ? n.obj.start_time : Infinity);
    const sortRec = (list, seen) => {
      list.sort((a, b) => start(a) - start(b));
      for (const n of list) {
        if (seen.has(n)) continue;
        seen.add(n);
        sortRec(n.children, seen);
      }
    };
    sortRec(roots, new Set());
    return roots;
  }

  function kindOf(n) {
    if (n.obj === n.top && n.obj.type !== 'subsegment') return 'segment';
    return 'subsegment';
  }

  function docOutcome(o) {
    return {
      in_progress: o.in_progress === true || typeof o.end_time !== 'number',
      fault: o.fault === true, error: o.error === true, throttle: o.throttle === true,
    };
  }

  function kvTable(rows) {
    const t = el('table', { class: 'kv' });
    for (const [k, v] of rows) if (v !== undefined && v !== null && v !== '') t.appendChild(el('tr', {}, el('td', {}, k), el('td', {}, v)));
    return t;
  }

  function showDetail(panel, n) {
    clear(panel);
    const o = n.obj;
    const dur = typeof o.end_time === 'number' && typeof o.start_time === 'number' ? o.end_time - o.start_time : null;
    const http = o.http || {};
    panel.appendChild(el('h2', { id: 'detail-title' }, (o.name || '(no name)') + ' ', badge(docOutcome(o))));
    panel.appendChild(kvTable([
      ['Kind', kindOf(n) + (n.obj !== n.top ? ' (nested in document ' + (n.top.id || '?') + ')' : '')],
      ['ID', o.id], ['Parent ID', o.parent_id], ['Trace ID', o.trace_id || n.top.trace_id],
      ['Namespace', o.namespace], ['Origin', o.origin],
      ['Start', fmtTime(o.start_time)], ['End', o.end_time !== undefined ? fmtTime(o.end_time) : 'in progress'],
      ['Duration', dur !== null ? fmtDuration(dur) : 'in progress'],
      ['HTTP', [http.request && http.request.method, http.request && http.request.url,
        http.response && http.response.status].filter((x) => x !== undefined).join(' ')],
    ]));
    panel.appendChild(el('h2', {}, 'Annotations'));
    const ann = o.annotations && typeof o.annotations === 'object' ? Object.entries(o.annotations) : [];
    if (ann.length) panel.appendChild(kvTable(ann.map(([k, v]) => [k, JSON.stringify(v)])));
    else panel.appendChild(el('p', { class: 'muted' }, 'none'));
    panel.appendChild(el('h2', {}, 'Metadata'));
    if (o.metadata && typeof o.metadata === 'object' && Object.keys(o.metadata).length) {
      panel.appendChild(el('pre', { id: 'detail-metadata' }, JSON.stringify(o.metadata, null, 2)));
    } else panel.appendChild(el('p', { class: 'muted' }, 'none'));
    panel.appendChild(el('h2', {}, 'Exceptions'));
    const exc = o.cause && Array.isArray(o.cause.exceptions) ? o.cause.exceptions : [];
    if (exc.length) {
      for (const x of exc) {
        const box = el('div', { class: 'exception' },
          el('div', {}, el('b', {}, String(x.type || 'exception')), ': ', String(x.message || '')));
        if (Array.isArray(x.stack) && x.stack.length) {
          box.appendChild(el('pre', {}, x.stack.map((f) => [f.label, f.path, f.line].filter((y) => y !== undefined).join(' ')).join('\n')));
        }
        panel.appendChild(box);
      }
    } else if (o.cause && typeof o.cause === 'string') {
      panel.appendChild(el('p', {}, 'Exception id ' + o.cause));
    } else panel.appendChild(el('p', { class: 'muted' }, 'none'));
    panel.appendChild(el('h2', {}, n.obj === n.top ? 'Document as sent to X-Ray' : 'Subsegment (part of the document above it)'));
    panel.appendChild(el('pre', { id: 'detail-json' }, JSON.stringify(o, null, 2)));
  }

  async function pageTrace(id) {
    setNav('');
    clear(main);
    main.appendChild(el('h1', {}, 'Trace ', el('span', { id: 'trace-id' }, id)));
    let data;
    try {
      data = await getJSON('/api/traces/' + encodeURIComponent(id));
    } catch (e) {
      showError(e.message);
      return;
    }
    const roots = buildTree(data.documents);
    const rows = [];
    const seen = new Set();
    (function flatten(list, depth) {
      for (const n of list) {
        if (seen.has(n)) continue;
        seen.add(n);
        rows.push({ n, depth });
        flatten(n.children, depth + 1);
      }
    })(roots, 0);
    let t0 = Infinity, t1 = -Infinity;
    for (const { n } of rows) {
      const o = n.obj;
      if (typeof o.start_time === 'number') { t0 = Math.min(t0, o.start_time); t1 = Math.max(t1, o.start_time); }
      if (typeof o.end_time === 'number') t1 = Math.max(t1, o.end_time);
    }
    if (!isFinite(t0)) { t0 = 0; t1 = 1; }
    const span = t1 - t0 > 0 ? t1 - t0 : 1e-6;
    const sum = data.documents.reduce((a, d) => {
      const oc = docOutcome(d);
      return { fault: a.fault || oc.fault, error: a.error || oc.error, throttle: a.throttle || oc.throttle, in_progress: a.in_progress || oc.in_progress };
    }, { fault: false, error: false, throttle: false, in_progress: false });
    main.appendChild(el('div', { class: 'summary' },
      el('span', {}, el('b', {}, 'Started'), fmtTime(t0)),
      el('span', {}, el('b', {}, 'Duration'), fmtDuration(t1 - t0)),
      el('span', {}, el('b', {}, 'Documents'), String(data.documents.length)),
      el('span', {}, el('b', {}, 'Result'), badge(sum))));
    if (data.unparsed && data.unparsed.length) {
      main.appendChild(el('p', { class: 'error-text' }, data.unparsed.length + ' stored document(s) are not valid JSON and are not shown.'));
    }
    const tl = el('div', { class: 'timeline', id: 'timeline', role: 'list' });
    const scale = el('div', { class: 'tl-scale' });
    for (let i = 0; i <= 4; i++) {
      const tick = el('span', { class: 'tl-tick' }, fmtDuration((span * i) / 4));
      tick.style.left = Math.min(i * 25, 92) + '%';
      scale.appendChild(tick);
    }
    tl.appendChild(el('div', { class: 'tl-row tl-head' }, el('div', {}, 'Name'), el('div', {}, scale),
      el('div', {}, 'Duration'), el('div', {}, 'HTTP'), el('div', {}, 'Result')));
    const panel = el('div', { class: 'detail', id: 'detail' }, el('p', { class: 'muted' }, 'Click a row to see its document.'));
    let selected = null;
    for (const { n, depth } of rows) {
      const o = n.obj;
      const oc = docOutcome(o);
      const [word, cls] = outcome(oc);
      const dur = !oc.in_progress && typeof o.start_time === 'number' ? o.end_time - o.start_time : null;
      const bar = el('div', { class: 'tl-bar status-' + cls, title: word });
      const st = typeof o.start_time === 'number' ? o.start_time : t0;
      const en = typeof o.end_time === 'number' ? o.end_time : t1;
      bar.style.left = ((st - t0) / span) * 100 + '%';
      bar.style.width = Math.max(((en - st) / span) * 100, 0.2) + '%';
      const name = el('div', { class: 'tl-name' }, o.name === undefined ? '(no name)' : String(o.name),
        el('span', { class: 'kind' }, kindOf(n) + (o.namespace ? ' · ' + o.namespace : '')));
      name.style.paddingLeft = 8 + depth * 16 + 'px';
      const status = o.http && o.http.response && o.http.response.status !== undefined ? String(o.http.response.status) : '';
      const row = el('div', { class: 'tl-row ' + kindOf(n), role: 'listitem', tabindex: '0',
        'data-id': typeof o.id === 'string' ? o.id : '', 'data-status': cls, 'aria-label': word },
      name, el('div', { class: 'tl-track' }, bar),
      el('div', { class: 'tl-duration' }, dur === null ? 'in progress' : fmtDuration(dur)),
      el('div', { class: 'tl-http' }, status),
      el('div', {}, el('span', { class: 'status status-' + cls }, word)));
      const open = () => {
        if (selected) selected.classList.remove('selected');
        selected = row;
        row.classList.add('selected');
        showDetail(panel, n);
      };
      row.addEventListener('click', open);
      row.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') open(); });
      tl.appendChild(row);
    }
    main.appendChild(tl);
    main.appendChild(panel);
  }

  // ------------------------------------------------------------ service map

  // "avg X · p99 Y" over the calls with a known duration.
  function latency(s) {
    if (!s.timed) return 'no duration yet (in progress)';
    return 'avg ' + fmtMs(s.avg_ms) + ' · p99 ' + fmtMs(s.p99_ms);
  }

  async function pageMap() {
    setNav('map');
    clear(main);
    main.appendChild(el('h1', {}, 'Service map'));
    let data;
    try {
      data = await getJSON('/api/map');
    } catch (e) {
      showError(e.message);
      return;
    }
    const nodes = data.map.nodes, edges = data.map.edges;
    main.appendChild(el('p', { class: 'muted', id: 'map-count' }, 'From ' + data.traces + ' stored traces: ' +
      nodes.length + ' nodes, ' + edges.length + ' edges.'));
    const legend = el('div', { class: 'legend' });
    for (const h of ['ok', 'error', 'throttle', 'fault', 'client']) {
      legend.appendChild(el('span', { class: 'status status-' + h }, h === 'ok' ? 'OK' : h[0].toUpperCase() + h.slice(1)));
    }
    main.appendChild(legend);
    // Layered layout: a node's column is its longest call distance from a node nobody calls.
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const depth = new Map(nodes.map((n) => [n.id, 0]));
    for (let pass = 0; pass < nodes.length; pass++) {
      let changed = false;
      for (const e of edges) {
        const d = depth.get(e.from) + 1;
        if (e.from !== e.to && d > depth.get(e.to) && d < nodes.length) { depth.set(e.to, d); changed = true; }
      }
      if (!changed) break;
    }
    const cols = [];
    for (const n of nodes) {
      const d = depth.get(n.id);
      (cols[d] = cols[d] || []).push(n);
    }
    const colW = 300, rowH = 150, padX = 90, padY = 70;
    const pos = new Map();
    let maxRows = 1;
    // Within a column, nodes sit in the order of their callers' rows (fewer crossings).
    cols.forEach((col, ci) => {
      col = col || [];
      const key = (n) => {
        const ys = edges.filter((e) => e.to === n.id && pos.has(e.from)).map((e) => pos.get(e.from).y);
        return ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : Infinity;
      };
      const keys = new Map(col.map((n) => [n.id, key(n)]));
      col.sort((a, b) => (keys.get(a.id) - keys.get(b.id)) || a.name.localeCompare(b.name));
      col.forEach((n, ri) => pos.set(n.id, { x: padX + ci * colW, y: padY + ri * rowH }));
      maxRows = Math.max(maxRows, col.length);
    });
    const width = padX * 2 + Math.max(cols.length - 1, 0) * colW + 80;
    const height = padY * 2 + (maxRows - 1) * rowH + 30;
    const svg = sv('svg', { class: 'map', id: 'map', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'service map' });
    const defs = sv('defs');
    const marker = sv('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto-start-reverse' });
    marker.appendChild(sv('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow' }));
    defs.appendChild(marker);
    svg.appendChild(defs);
    const R = 26;
    for (const e of edges) {
      const a = pos.get(e.from), b = pos.get(e.to);
      if (!a || !b) continue;
      const dx = b.x - a.x, dy = b.y - a.y, len = Math.hypot(dx, dy) || 1;
      const g = sv('g', { class: 'edge', 'data-from': byId.get(e.from).name, 'data-to': byId.get(e.to).name });
      g.appendChild(sv('line', { class: 'edge', x1: a.x + (dx / len) * R, y1: a.y + (dy / len) * R,
        x2: b.x - (dx / len) * (R + 2), y2: b.y - (dy / len) * (R + 2), 'marker-end': 'url(#arrow)' }));
      const s = e.stats;
      const mx = (a.x + b.x) / 2, my = (a.y + b.y) / 2 - 20;
      const label = sv('text', { class: 'edge-label', x: mx, y: my, 'text-anchor': 'middle' });
      label.appendChild(sv('tspan', { x: mx, dy: 0 }, s.count + ' req · ' + latency(s)));
      label.appendChild(sv('tspan', { x: mx, dy: 13 }, 'error ' + pct(s.error_share) + ' · fault ' + pct(s.fault_share) + ' · throttle ' + pct(s.throttle_share)));
      g.appendChild(label);
      svg.appendChild(g);
    }
    for (const n of nodes) {
      const p = pos.get(n.id);
      const g = sv('g', { class: 'node', 'data-name': n.name, 'data-health': n.health });
      g.appendChild(sv('circle', { class: 'node health-' + n.health, cx: p.x, cy: p.y, r: R }));
      g.appendChild(sv('text', { class: 'node-name', x: p.x, y: p.y + R + 16, 'text-anchor': 'middle' }, n.name));
      const word = n.health === 'ok' ? 'OK' : n.health[0].toUpperCase() + n.health.slice(1);
      const sub = n.health === 'client' ? n.type : n.type + ' · ' + word + (n.health !== 'ok' ? ' ' + pct(n.stats[n.health + '_share'] || 0) : '');
      g.appendChild(sv('text', { class: 'node-sub', x: p.x, y: p.y + R + 30, 'text-anchor': 'middle' }, sub));
      svg.appendChild(g);
    }
    main.appendChild(el('div', { class: 'map-wrap' }, svg));
    main.appendChild(el('h2', {}, 'Edges'));
    const table = el('table', { class: 'list', id: 'edges' }, el('thead', {}, el('tr', {},
      ...['Caller', 'Callee', 'Callee type', 'Requests', 'Average', 'p99', 'Error', 'Fault', 'Throttle', 'Callee health'].map((h) => el('th', {}, h)))));
    const tb = el('tbody', {});
    for (const e of edges) {
      const f = byId.get(e.from), t = byId.get(e.to), s = e.stats;
      tb.appendChild(el('tr', {}, el('td', {}, f.name), el('td', {}, t.name), el('td', {}, t.type),
        el('td', { class: 'num' }, s.count), el('td', { class: 'num' }, s.timed ? fmtMs(s.avg_ms) : '—'), el('td', { class: 'num' }, s.timed ? fmtMs(s.p99_ms) : '—'),
        el('td', { class: 'num' }, pct(s.error_share)), el('td', { class: 'num' }, pct(s.fault_share)),
        el('td', { class: 'num' }, pct(s.throttle_share)), el('td', {}, el('span', { class: 'status status-' + t.health }, t.health))));
    }
    table.appendChild(tb);
    main.appendChild(table);
  }

  // Renders the page of the current URL; body[data-ready] is "1" once it is drawn.
  function route() {
    const p = location.pathname;
    document.body.setAttribute('data-ready', '0');
    let page;
    if (p === '/map') page = pageMap();
    else if (p.startsWith('/trace/')) page = pageTrace(decodeURIComponent(p.slice(7)));
    else page = pageTraces();
    return page.finally(() => document.body.setAttribute('data-ready', '1'));
  }
  window.addEventListener('popstate', route);
  route();
})();
