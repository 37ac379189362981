// browser_test.mjs: drives Debian's headless Chromium with puppeteer-core through the
// viewer's three pages and checks what a person would see (docs/viewer.md).
//
//   node browser_test.mjs --url http://localhost:PORT/ --ids ids.json --shots DIR
//                         [--chromium /usr/bin/chromium]
//
// ids.json (written by run_viewer_browser.py) names the traces that were sent:
// parcel (OTel SDK: 500 -> fault, 429 -> throttle, a database call), health (an OK
// trace of another service), legacy (X-Ray daemon protocol: a segment named like an
// HTML image tag with "</script>" values, and an in-progress subsegment). Saves
// list.png, trace.png, map.png (and xss.png) into DIR. Prints "N passed, N failed" and
// exits 1 on any failure, including a Chromium that cannot be started.
import { existsSync, mkdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import puppeteer from 'puppeteer-core';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' }, ids: { type: 'string' }, shots: { type: 'string' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
  },
});
const ids = JSON.parse(readFileSync(args.ids, 'utf8'));
const base = args.url.replace(/\/$/, '');
mkdirSync(args.shots, { recursive: true });

let passed = 0, failed = 0;
function check(ok, what, detail) {
  if (ok) { passed++; console.log('ok   ' + what); } else { failed++; console.log('FAIL ' + what + (detail !== undefined ? ': ' + JSON.stringify(detail) : '')); }
}

const dialogs = [];
const pageErrors = [];
const cspViolations = [];

async function ready(page) {
  await page.waitForSelector('body[data-ready="1"]', { timeout: 15000 });
}
async function texts(page, sel) {
  return page.$$eval(sel, (els) => els.map((e) => e.textContent));
}

async function main() {
  if (!existsSync(args.chromium)) throw new Error('chromium not found at ' + args.chromium + ' (Debian package "chromium"; make deps installs it)');
  const profile = mkdtempSync(join(tmpdir(), 'xb-viewer-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: args.chromium,
    headless: true,
    userDataDir: profile,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run',
      '--disable-extensions', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });
    page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });

    // ---------------------------------------------------------------- list
    await page.goto(base + '/', { waitUntil: 'networkidle0' });
    await ready(page);
    const rows = await page.$$eval('#traces tbody tr', (trs) => trs.map((tr) => ({
      id: tr.getAttribute('data-trace-id'),
      cells: [...tr.querySelectorAll('td')].map((td) => td.textContent),
      status: tr.querySelector('.status').getAttribute('data-status'),
    })));
    const parcel = rows.find((r) => r.id === ids.parcel);
    const health = rows.find((r) => r.id === ids.health);
    const legacy = rows.find((r) => r.id === ids.legacy);
    check(rows.length === 3, 'list shows the three traces', rows.map((r) => r.id));
    check(parcel && parcel.cells[1] === 'parcel-api' && parcel.cells[2] === 'POST' &&
      parcel.cells[3] === 'https://parcel.example.com/parcels' && parcel.cells[4] === '201',
    'parcel row: service, method, URL, HTTP status', parcel);
    check(parcel && parcel.status === 'fault' && parcel.cells[7] === 'Fault', 'parcel row says Fault', parcel);
    check(parcel && /^500\.0 ms$/.test(parcel.cells[6]), 'parcel row duration 500.0 ms', parcel && parcel.cells[6]);
    check(parcel && parcel.cells[8] === '5', 'parcel row counts 5 segments', parcel && parcel.cells[8]);
    check(health && health.status === 'ok' && health.cells[1] === 'billing-api' && health.cells[6] === '4.00 ms',
      'health row: billing-api, OK, 4.00 ms', health);
    check(legacy && legacy.cells[1] === ids.xss_name && legacy.status === 'in-progress',
      'daemon-protocol row: hostile name as text, in progress', legacy);
    const order = rows.map((r) => r.id);
    check(order.indexOf(ids.health) < order.indexOf(ids.parcel), 'newest first', order);
    await page.screenshot({ path: join(args.shots, 'list.png'), fullPage: true });

    // filters: the form fields and the expression box
    async function applyFilter(fields) {
      for (const name of ['service', 'min_duration', 'annotation', 'filter']) {
        await page.$eval('#f-' + name, (e, v) => { e.value = v; }, fields[name] || '');
      }
      await page.select('#f-status', fields.status || '');
      await Promise.all([page.click('#apply')]);
      await ready(page);
      return page.$$eval('#traces tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-trace-id')));
    }
    let got = await applyFilter({ status: 'fault' });
    check(got.length === 1 && got[0] === ids.parcel, 'status=fault keeps only the parcel trace', got);
    got = await applyFilter({ status: 'ok' });
    check(got.length === 2 && got.includes(ids.health) && got.includes(ids.legacy),
      'status=ok keeps the traces without fault, error or throttle', got);
    got = await applyFilter({ status: 'throttle' });
    check(got.length === 1 && got[0] === ids.parcel, 'status=throttle keeps the parcel trace', got);
    got = await applyFilter({ service: 'billing-api' });
    check(got.length === 1 && got[0] === ids.health, 'service filter', got);
    got = await applyFilter({ min_duration: '0.1' });
    check(got.length === 1 && got[0] === ids.parcel, 'minimum duration 0.1 s', got);
    got = await applyFilter({ annotation: 'parcel_id=p-42' });
    check(got.length === 1 && got[0] === ids.parcel, 'annotation value filter', got);
    got = await applyFilter({ filter: 'service("parcel-api") AND fault AND responsetime > 0.4 AND http.status = 201' });
    check(got.length === 1 && got[0] === ids.parcel, 'filter expression with AND', got);
    got = await applyFilter({ filter: 'responsetime > 1' });
    check(got.length === 0, 'responsetime > 1 matches nothing', got);
    await applyFilter({ filter: 'fault OR error' });
    const err = await page.$eval('#error', (e) => e.textContent).catch(() => '');
    check(/expected AND/.test(err), 'a bad expression shows the parser\'s message', err);
    check(page.url().includes('filter='), 'filters are kept in the URL', page.url());

    // ---------------------------------------------------------------- trace
    await page.goto(base + '/', { waitUntil: 'networkidle0' });
    await ready(page);
    await Promise.all([page.waitForNavigation({ waitUntil: 'networkidle0' }),
      page.click(`#traces tr[data-trace-id="${ids.parcel}"] a.trace-link`)]);
    await ready(page);
    const tl = await page.$$eval('#timeline .tl-row:not(.tl-head)', (rs) => rs.map((r) => ({
      id: r.getAttribute('data-id'), status: r.getAttribute('data-status'),
      name: r.querySelector('.tl-name').firstChild.textContent,
      indent: parseInt(r.querySelector('.tl-name').style.paddingLeft, 10),
      duration: r.querySelector('.tl-duration').textContent,
      http: r.querySelector('.tl-http').textContent,
      word: r.querySelector('.status').textContent,
      cls: r.querySelector('.tl-bar').className,
    })));
    const byName = Object.fromEntries(tl.map((r) => [r.name, r]));
    check(tl.length === 5 && tl[0].name === 'parcel-api', 'timeline: the segment and its 4 subsegments, segment first', tl.map((r) => r.name));
    check(tl.slice(1).every((r) => r.indent > tl[0].indent), 'subsegments are nested under the segment', tl.map((r) => r.indent));
    const carrier = byName['POST carrier'];
    check(carrier && carrier.word === 'Fault' && carrier.status === 'fault' && carrier.http === '500' &&
      carrier.duration === '300.0 ms' && /status-fault/.test(carrier.cls), 'the 500 call: Fault, 500, 300.0 ms', carrier);
    const rates = byName['GET rates'];
    check(rates && rates.word === 'Throttle' && rates.status === 'throttle' && rates.http === '429' &&
      rates.duration === '50.0 ms', 'the 429 call: Throttle, 429, 50.0 ms', rates);
    const db = byName.parcels;
    check(db && db.word === 'OK' && db.duration === '50.0 ms', 'the database call: OK, 50.0 ms', db);
    check(byName['parcel-api'] && byName['parcel-api'].duration === '500.0 ms' && byName['parcel-api'].http === '201',
      'the segment: 500.0 ms, 201', byName['parcel-api']);
    const sanitized = tl.find((r) => r.name.startsWith('img'));
    check(sanitized && sanitized.name === 'img src=x onerror=alert1', 'the hostile OTel span name, as the translator cleaned it, is text', sanitized);
    // click the 500 row: the document as sent, pretty-printed, with its exception
    await page.click(`#timeline .tl-row[data-id="${carrier.id}"]`);
    await page.waitForSelector('#detail-json');
    const detail = await page.$eval('#detail', (e) => e.textContent);
    const json = await page.$eval('#detail-json', (e) => e.textContent);
    let doc = null;
    try { doc = JSON.parse(json); } catch (e) { doc = null; }
    check(doc && doc.id === carrier.id && doc.fault === true && doc.http.response.status === 500 && json.includes('\n  "'),
      'clicking the row shows its document, pretty-printed', json.slice(0, 200));
    check(detail.includes('Document as sent to X-Ray') && detail.includes('carrier failed'), 'the detail shows the exception (cause)', detail.slice(0, 400));
    await page.click(`#timeline .tl-row[data-id="${tl[0].id}"]`);
    await page.waitForFunction((id) => document.querySelector('#detail-json') && JSON.parse(document.querySelector('#detail-json').textContent).id === id, {}, tl[0].id);
    const segDetail = await page.$eval('#detail', (e) => e.textContent);
    check(segDetail.includes('parcel_id') && segDetail.includes('"p-42"') && segDetail.includes('http.route'),
      'the segment: annotations and metadata shown separately', segDetail.slice(0, 400));
    await page.click(`#timeline .tl-row[data-id="${carrier.id}"]`);
    await page.waitForFunction((id) => JSON.parse(document.querySelector('#detail-json').textContent).id === id, {}, carrier.id);
    await page.screenshot({ path: join(args.shots, 'trace.png'), fullPage: true });

    // ---------------------------------------------------------------- XSS
    await page.goto(base + '/trace/' + ids.legacy, { waitUntil: 'networkidle0' });
    await ready(page);
    const legacyRows = await page.$$eval('#timeline .tl-row:not(.tl-head)', (rs) => rs.map((r) => ({
      id: r.getAttribute('data-id'), name: r.querySelector('.tl-name').firstChild.textContent,
      word: r.querySelector('.status').textContent, duration: r.querySelector('.tl-duration').textContent,
      indent: parseInt(r.querySelector('.tl-name').style.paddingLeft, 10),
      cls: r.querySelector('.tl-bar').className,
    })));
    check(legacyRows.length === 3 && legacyRows[0].name === ids.xss_name, 'hostile segment name renders as the exact text', legacyRows);
    const nested = legacyRows.find((r) => r.id === '00000000000000a3');
    check(nested && nested.name === 'DynamoDB' && nested.duration === '50.0 ms' && legacyRows.indexOf(nested) === 1 && nested.indent > legacyRows[0].indent,
      'a subsegment nested in its segment\'s document is a row under it', legacyRows);
    const prog = legacyRows.find((r) => r.id === ids.legacy_in_progress);
    check(prog && prog.word === 'In progress' && prog.duration === 'in progress' && /status-in-progress/.test(prog.cls),
      'the in-progress subsegment is shown as in progress', prog);
    await page.click(`#timeline .tl-row[data-id="${legacyRows[0].id}"]`);
    await page.waitForSelector('#detail-json');
    const title = await page.$eval('#detail-title', (e) => e.firstChild.textContent);
    check(title === ids.xss_name + ' ', 'detail title is the exact text', title);
    const annCell = await page.$$eval('#detail table.kv td', (tds) => tds.map((t) => t.textContent));
    check(annCell.includes(JSON.stringify(ids.xss_value)), 'an annotation holding </script> renders as text', annCell);
    const meta = await page.$eval('#detail-metadata', (e) => e.textContent);
    check(meta.includes(ids.xss_value), 'metadata holding </script> renders as text', meta);
    const injected = await page.evaluate(() => ({
      imgs: document.querySelectorAll('img').length,
      scripts: [...document.querySelectorAll('script')].map((s) => s.getAttribute('src')),
      bold: document.querySelectorAll('main b').length,
    }));
    check(injected.imgs === 0 && injected.scripts.length === 1 && injected.scripts[0] === '/assets/viewer.js',
      'no element was injected (no img, only the viewer script)', injected);
    await page.screenshot({ path: join(args.shots, 'xss.png'), fullPage: true });

    // ---------------------------------------------------------------- map
    await page.goto(base + '/map', { waitUntil: 'networkidle0' });
    await ready(page);
    const nodes = await page.$$eval('svg#map g.node', (gs) => gs.map((g) => ({
      name: g.querySelector('text.node-name').textContent, health: g.getAttribute('data-health'),
      sub: g.querySelector('text.node-sub').textContent, cls: g.querySelector('circle').getAttribute('class'),
    })));
    const node = (n) => nodes.find((x) => x.name === n);
    check(node('client') && node('parcel-api') && node('billing-api'), 'map: client and service nodes as SVG text', nodes.map((n) => n.name));
    check(node('POST carrier') && node('POST carrier').health === 'fault' && /health-fault/.test(node('POST carrier').cls) &&
      /Fault 100%/.test(node('POST carrier').sub), 'the 500-answering remote is red and says Fault', node('POST carrier'));
    check(node('GET rates') && node('GET rates').health === 'throttle' && /Throttle 100%/.test(node('GET rates').sub),
      'the 429-answering remote says Throttle', node('GET rates'));
    check(node('parcels') && /database/.test(node('parcels').sub), 'the database node', node('parcels'));
    check(node(ids.xss_name) !== undefined, 'the hostile service name is an SVG text label', nodes.map((n) => n.name));
    check(node('DynamoDB') && /^aws/.test(node('DynamoDB').sub), 'the nested aws subsegment is an AWS node', node('DynamoDB'));
    const edges = await page.$$eval('svg#map g.edge', (gs) => gs.map((g) => ({
      from: g.getAttribute('data-from'), to: g.getAttribute('data-to'),
      label: [...g.querySelectorAll('tspan')].map((t) => t.textContent),
    })));
    const e1 = edges.find((e) => e.from === 'parcel-api' && e.to === 'POST carrier');
    check(e1 && e1.label[0] === '1 req · avg 300.0 ms · p99 300.0 ms' && e1.label[1] === 'error 0% · fault 100% · throttle 0%',
      'edge label: count, average, p99 and shares', e1);
    const e2 = edges.find((e) => e.from === 'client' && e.to === 'parcel-api');
    check(e2 && /^1 req · avg 500\.0 ms/.test(e2.label[0]), 'client -> parcel-api edge', e2);
    await page.screenshot({ path: join(args.shots, 'map.png'), fullPage: true });

    check(dialogs.length === 0, 'no dialog was ever opened (no script from data ran)', dialogs);
    check(pageErrors.length === 0, 'no script error on any page', pageErrors);
    check(cspViolations.length === 0, 'no Content-Security-Policy violation', cspViolations);
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (e) {
  failed++;
  console.log('FAIL browser test aborted: ' + (e && e.stack ? e.stack : e));
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
