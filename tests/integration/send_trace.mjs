// send_trace.mjs: emit one realistic multi-span trace through the official
// OpenTelemetry JS SDK and one of its OTLP exporters, then record what was sent.
//
//   node send_trace.mjs --protocol grpc|http/protobuf|http/json
//                       --endpoint URL [--gzip] --out ids.json
//
// --endpoint is the receiver base, e.g. http://127.0.0.1:4317 (gRPC) or
// http://127.0.0.1:4318 (HTTP; "/v1/traces" is appended when no path is given).
// The spans are exported by a SimpleSpanProcessor; every export result is
// captured by a wrapping exporter, and the process exits 1 when any export
// failed, so a rejected or unreachable receiver is never silent.
// --out receives {"protocol", "gzip", "resource", "spans": [...]} where each
// span carries exported (true when the receiver acknowledged it), traceId, spanId, parentSpanId ("" when none), name, kind
// (SERVER/CLIENT/...), startNs/endNs (decimal strings: they exceed 2^53),
// status {code: UNSET|OK|ERROR, message}, attributes and events, exactly as
// the SDK handed them to the exporter.

import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';

const KIND_NAMES = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUS_NAMES = ['UNSET', 'OK', 'ERROR'];

function usage(msg) {
  process.stderr.write(`send_trace: ${msg}\nusage: node send_trace.mjs --protocol grpc|http/protobuf|http/json --endpoint URL [--gzip] --out FILE\n`);
  process.exit(2);
}

function parseCli() {
  const { values } = parseArgs({
    options: {
      protocol: { type: 'string' },
      endpoint: { type: 'string' },
      gzip: { type: 'boolean', default: false },
      out: { type: 'string' },
      timeout: { type: 'string', default: '10000' },
      links: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!['grpc', 'http/protobuf', 'http/json'].includes(values.protocol)) usage('bad --protocol');
  if (!values.endpoint) usage('missing --endpoint');
  if (!values.out) usage('missing --out');
  return values;
}

function makeExporter(protocol, endpoint, gzip, timeoutMillis) {
  const compression = gzip ? 'gzip' : 'none';
  if (protocol === 'grpc') {
    return new GrpcExporter({ url: endpoint, compression, timeoutMillis });
  }
  const u = new URL(endpoint);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1/traces';
  const opts = { url: u.toString(), compression, timeoutMillis };
  return protocol === 'http/protobuf' ? new ProtoExporter(opts) : new JsonExporter(opts);
}

// Wraps a real exporter: forwards every batch and remembers each result.
class RecordingExporter {
  constructor(inner) {
    this.inner = inner;
    this.spans = []; // every span handed to export(), in order
    this.acked = new Set(); // span ids whose export succeeded
    this.failures = [];
  }

  export(spans, resultCallback) {
    this.inner.export(spans, (result) => {
      this.spans.push(...spans);
      if (result.code === 0) {
        for (const s of spans) this.acked.add(s.spanContext().spanId);
      } else {
        this.failures.push(result.error ? String(result.error.message || result.error) : `code ${result.code}`);
      }
      resultCallback(result);
    });
  }

  shutdown() { return this.inner.shutdown(); }

  forceFlush() { return this.inner.forceFlush ? this.inner.forceFlush() : Promise.resolve(); }
}

const hrToNs = (hr) => (BigInt(hr[0]) * 1000000000n + BigInt(hr[1])).toString();

function describe(span, acked) {
  const ctx = span.spanContext();
  return {
    exported: acked.has(ctx.spanId),
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: span.parentSpanContext ? span.parentSpanContext.spanId : '',
    parentIsRemote: Boolean(span.parentSpanContext && span.parentSpanContext.isRemote),
    name: span.name,
    kind: KIND_NAMES[span.kind],
    startNs: hrToNs(span.startTime),
    endNs: hrToNs(span.endTime),
    status: { code: STATUS_NAMES[span.status.code], message: span.status.message || '' },
    attributes: { ...span.attributes },
    events: span.events.map((e) => ({ name: e.name, timeNs: hrToNs(e.time), attributes: { ...(e.attributes || {}) } })),
    links: (span.links || []).map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId, attributes: { ...(l.attributes || {}) } })),
  };
}

// Builds the trace: a SERVER span continuing a remote caller, two CLIENT
// children (an HTTP call answered 500, a database call), and an INTERNAL child
// that records an exception.
function buildTrace(tracer, withLinks) {
  const remoteParent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
  });

  const server = tracer.startSpan('GET /api/orders/{id}', {
    kind: SpanKind.SERVER,
    attributes: {
      'http.request.method': 'GET',
      'url.path': '/api/orders/42',
      'url.scheme': 'http',
      'http.route': '/api/orders/{id}',
      'server.address': 'shop.example.com',
      'server.port': 8080,
      'http.response.status_code': 200,
      'user_agent.original': 'integration-test/1.0',
    },
  }, remoteParent);
  const inServer = trace.setSpan(ROOT_CONTEXT, server);

  const httpClient = tracer.startSpan('GET inventory', {
    kind: SpanKind.CLIENT,
    attributes: {
      'http.request.method': 'GET',
      'url.full': 'http://inventory.internal:9090/stock/42',
      'server.address': 'inventory.internal',
      'server.port': 9090,
      'http.response.status_code': 500,
    },
  }, inServer);
  // Status left UNSET on purpose: the 500 alone must make it a fault.
  httpClient.end();

  const db = tracer.startSpan('SELECT orders', {
    kind: SpanKind.CLIENT,
    attributes: {
      'peer.service': 'orders-db',
      'db.system': 'postgresql',
      'db.name': 'orders',
      'db.statement': 'SELECT * FROM orders WHERE id = $1',
    },
  }, inServer);
  db.setStatus({ code: SpanStatusCode.OK });
  db.end();

  // --links: the INTERNAL span also links to a span of another trace (kept by OTLP
  // export, which the segment mapping cannot carry whole).
  const links = withLinks ? [{
    context: { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), traceFlags: TraceFlags.SAMPLED },
    attributes: { 'link.reason': 'batch-origin' },
  }] : [];
  const internal = tracer.startSpan('compute-price', {
    kind: SpanKind.INTERNAL,
    links,
    attributes: {
      'app.label': 'gold',
      'app.items': 3,
      'app.ratio': 0.75,
      'app.cached': false,
      'app.tags': ['fast', 'eu'],
    },
  }, inServer);
  internal.recordException(new Error('price service unavailable'));
  internal.setStatus({ code: SpanStatusCode.ERROR, message: 'pricing failed' });
  internal.end();

  server.end();
}

async function main() {
  const args = parseCli();
  const timeoutMillis = Number(args.timeout);
  const recorder = new RecordingExporter(makeExporter(args.protocol, args.endpoint, args.gzip, timeoutMillis));
  const resourceAttrs = {
    [ATTR_SERVICE_NAME]: 'checkout-service',
    [ATTR_SERVICE_VERSION]: '1.2.3',
    'deployment.environment.name': 'integration',
  };
  const provider = new BasicTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes(resourceAttrs)),
    spanProcessors: [new SimpleSpanProcessor(recorder)],
  });
  buildTrace(provider.getTracer('xraybridge-integration', '1.0.0'), args.links);

  let flushError = null;
  try {
    await provider.forceFlush();
    await provider.shutdown();
  } catch (err) {
    flushError = err;
  }

  const sentResource = recorder.spans.length > 0 ? { ...recorder.spans[0].resource.attributes } : resourceAttrs;
  const out = {
    protocol: args.protocol,
    gzip: args.gzip,
    resource: sentResource,
    spans: recorder.spans.map((s) => describe(s, recorder.acked)),
  };
  writeFileSync(args.out, JSON.stringify(out, null, 2));

  if (flushError || recorder.failures.length > 0 || recorder.acked.size !== 4) {
    process.stderr.write(`send_trace: export failed (${recorder.acked.size}/4 spans acknowledged)\n`);
    if (flushError) process.stderr.write(`  flush: ${flushError.message || flushError}\n`);
    for (const f of recorder.failures) process.stderr.write(`  ${f}\n`);
    process.exit(1);
  }
  process.stdout.write(`send_trace: ${recorder.spans.length} spans exported via ${args.protocol}${args.gzip ? ' (gzip)' : ''}\n`);
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`send_trace: ${err.stack || err}\n`);
  process.exit(1);
});
