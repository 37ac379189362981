// send_viewer_trace.mjs: the viewer browser test's traces, emitted with the official
// OpenTelemetry JS SDK (pinned in tests/integration/package.json) over OTLP/HTTP protobuf.
//
//   node send_viewer_trace.mjs --endpoint http://127.0.0.1:PORT --out ids.json
//
// Trace "parcel": a SERVER span of service parcel-api (POST /parcels, 201) with three
// CLIENT calls: an HTTP call answered 500 (fault), one answered 429 (throttle), a
// PostgreSQL query; and an INTERNAL span named like an HTML image tag whose attribute
// holds "</script>" (both must render as text). Trace "health": a fast GET of service
// billing-api answered 200. --out receives the X-Ray trace ids and the hostile strings.
// Exits 1 when an export fails.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const require = createRequire(new URL('../integration/package.json', import.meta.url));
const { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } = require('@opentelemetry/api');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { BasicTracerProvider, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');

export const XSS_NAME = '<img src=x onerror=alert(1)>';
export const XSS_VALUE = '</script><script>alert(2)</script>';

const { values } = parseArgs({ options: { endpoint: { type: 'string' }, out: { type: 'string' } } });
if (!values.endpoint || !values.out) {
  process.stderr.write('usage: node send_viewer_trace.mjs --endpoint URL --out FILE\n');
  process.exit(2);
}

const failures = [];
function provider(service) {
  const inner = new OTLPTraceExporter({ url: values.endpoint + '/v1/traces', timeoutMillis: 10000 });
  const exporter = {
    export(spans, cb) {
      inner.export(spans, (r) => {
        if (r.code !== 0) failures.push(String((r.error && r.error.message) || r.code));
        cb(r);
      });
    },
    shutdown() { return inner.shutdown(); },
    forceFlush() { return inner.forceFlush ? inner.forceFlush() : Promise.resolve(); },
  };
  return new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
}

// Span times are set explicitly (ms since the epoch) so that durations are known.
const t0 = Date.now() - 5000;
const at = (ms) => new Date(t0 + ms);

function xrayId(otelTraceId) {
  return '1-' + otelTraceId.slice(0, 8) + '-' + otelTraceId.slice(8);
}

function parcelTrace(tracer) {
  const server = tracer.startSpan('POST /parcels', {
    kind: SpanKind.SERVER,
    startTime: at(0),
    attributes: {
      'http.request.method': 'POST',
      'url.path': '/parcels',
      'url.scheme': 'https',
      'server.address': 'parcel.example.com',
      'http.route': '/parcels',
      'http.response.status_code': 201,
      parcel_id: 'p-42',
    },
  }, ROOT_CONTEXT);
  const ctx = trace.setSpan(ROOT_CONTEXT, server);
  const carrier = tracer.startSpan('POST carrier', {
    kind: SpanKind.CLIENT,
    startTime: at(20),
    attributes: {
      'http.request.method': 'POST',
      'url.full': 'https://carrier.example.com/shipments',
      'server.address': 'carrier.example.com',
      'http.response.status_code': 500,
    },
  }, ctx);
  carrier.setStatus({ code: SpanStatusCode.ERROR, message: 'carrier failed' });
  carrier.end(at(320));
  const rates = tracer.startSpan('GET rates', {
    kind: SpanKind.CLIENT,
    startTime: at(330),
    attributes: {
      'http.request.method': 'GET',
      'url.full': 'https://rates.example.com/quote',
      'server.address': 'rates.example.com',
      'http.response.status_code': 429,
    },
  }, ctx);
  rates.end(at(380));
  const db = tracer.startSpan('INSERT parcels', {
    kind: SpanKind.CLIENT,
    startTime: at(400),
    attributes: {
      'db.system': 'postgresql',
      'db.name': 'parcels',
      'db.statement': 'INSERT INTO parcels VALUES ($1)',
      'server.address': 'db.example.com',
    },
  }, ctx);
  db.end(at(450));
  const hostile = tracer.startSpan(XSS_NAME, {
    kind: SpanKind.INTERNAL,
    startTime: at(460),
    attributes: { xss_note: XSS_VALUE },
  }, ctx);
  hostile.recordException(new Error(XSS_VALUE));
  hostile.end(at(470));
  server.end(at(500));
  return xrayId(server.spanContext().traceId);
}

function healthTrace(tracer) {
  const s = tracer.startSpan('GET /health', {
    kind: SpanKind.SERVER,
    startTime: at(1000),
    attributes: {
      'http.request.method': 'GET',
      'url.path': '/health',
      'url.scheme': 'http',
      'server.address': 'billing.example.com',
      'http.response.status_code': 200,
    },
  }, ROOT_CONTEXT);
  s.end(at(1004));
  return xrayId(s.spanContext().traceId);
}

const p1 = provider('parcel-api');
const p2 = provider('billing-api');
const ids = {
  parcel: parcelTrace(p1.getTracer('viewer-test', '1.0.0')),
  health: healthTrace(p2.getTracer('viewer-test', '1.0.0')),
  xss_name: XSS_NAME,
  xss_value: XSS_VALUE,
};
await p1.forceFlush();
await p2.forceFlush();
await p1.shutdown();
await p2.shutdown();
writeFileSync(values.out, JSON.stringify(ids, null, 2));
if (failures.length) {
  process.stderr.write('export failed: ' + failures.join('; ') + '\n');
  process.exit(1);
}
