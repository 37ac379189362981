// two_sdks.mjs: one request through two services on 127.0.0.1 that use different SDKs,
// both reporting to one xraybridge.
//
//   node two_sdks.mjs --otlp http://127.0.0.1:PORT      (AWS_XRAY_DAEMON_ADDRESS set)
//
// Service A uses the OpenTelemetry JS SDK with the X-Ray id generator
// (@opentelemetry/id-generator-aws-xray) and the X-Ray propagator
// (@opentelemetry/propagator-aws-xray), exporting OTLP/HTTP. Service B uses the AWS
// X-Ray SDK for Node (aws-xray-sdk-core), whose segments go over UDP to the daemon
// address. The request: A's SERVER span "GET /checkout" -> A's CLIENT span calls B
// with an X-Amzn-Trace-Id header -> B's segment (traceRequestResponseCycle, the SDK's
// own HTTP server tracing) -> B's subsegment calls A's /leaf with its own header ->
// A's SERVER span "GET /leaf", the child of B's subsegment.
//
// Prints one JSON object: the ids each side used and the datagrams the X-Ray SDK sent
// (base64), for the test to find in the documents xraybridge exported. Exits 1 when an OTLP export fails.
import dgram from 'node:dgram';
import http from 'node:http';
import { parseArgs } from 'node:util';

import {
  ROOT_CONTEXT, SpanKind, defaultTextMapGetter, defaultTextMapSetter, trace,
} from '@opentelemetry/api';
import { AWSXRayIdGenerator } from '@opentelemetry/id-generator-aws-xray';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';

const { values } = parseArgs({ options: { otlp: { type: 'string' } }, strict: true });
if (!values.otlp || !process.env.AWS_XRAY_DAEMON_ADDRESS) {
  process.stderr.write('usage: AWS_XRAY_DAEMON_ADDRESS=host:port node two_sdks.mjs --otlp URL\n');
  process.exit(2);
}

// Counts the X-Ray SDK's UDP sends still in flight, so the script exits only after
// the kernel took every datagram.
let udpPending = 0;
let udpSent = 0;
let udpIdle = null;
const udpPayloads = [];
const send = dgram.Socket.prototype.send;
dgram.Socket.prototype.send = function (msg, ...rest) {
  if (!(Buffer.isBuffer(msg) || typeof msg === 'string')) return send.call(this, msg, ...rest);
  const cb = typeof rest[rest.length - 1] === 'function' ? rest.pop() : null;
  udpPending++;
  udpPayloads.push(Buffer.from(msg).toString('base64'));
  return send.call(this, msg, ...rest, (...a) => {
    udpPending--;
    udpSent++;
    if (cb) cb(...a);
    if (udpPending === 0 && udpIdle) udpIdle();
  });
};

const AWSXRay = (await import('aws-xray-sdk-core')).default;
AWSXRay.setContextMissingStrategy('IGNORE_ERROR');
AWSXRay.setLogger({ error() {}, warn() {}, info() {}, debug() {} });
AWSXRay.middleware.disableCentralizedSampling(); // the header says Sampled=1
AWSXRay.middleware.setDefaultName('service-b');

// ---- service A: OpenTelemetry SDK
let exportFailed = null;
const inner = new OTLPTraceExporter({ url: `${values.otlp}/v1/traces`, timeoutMillis: 10000 });
const exporter = {
  export(spans, done) {
    inner.export(spans, (r) => {
      if (r.code !== 0) exportFailed = r.error ? String(r.error) : `code ${r.code}`;
      done(r);
    });
  },
  shutdown() { return inner.shutdown(); },
  forceFlush() { return inner.forceFlush(); },
};
const provider = new BasicTracerProvider({
  idGenerator: new AWSXRayIdGenerator(),
  resource: resourceFromAttributes({ 'service.name': 'service-a' }),
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
const tracer = provider.getTracer('two-sdks-test');
const propagator = new AWSXRayPropagator();
const ids = {};

function listen(handler) {
  return new Promise((resolve) => {
    const s = http.createServer(handler);
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}

function get(url, headers) {
  return new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    }).on('error', reject);
  });
}

// A's /leaf: continues the trace B propagated.
const serverA = await listen((req, res) => {
  const parent = propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
  const span = tracer.startSpan('GET /leaf', {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': 'GET', 'url.path': '/leaf', 'http.response.status_code': 200 },
  }, parent);
  ids.a_leaf_span = span.spanContext().spanId;
  ids.a_leaf_header = req.headers['x-amzn-trace-id'];
  res.end('leaf');
  span.end();
});
const leafUrl = `http://127.0.0.1:${serverA.address().port}/leaf`;

// ---- service B: AWS X-Ray SDK
let bFinished;
const bDone = new Promise((r) => { bFinished = r; });
const serverB = await listen((req, res) => {
  const seg = AWSXRay.middleware.traceRequestResponseCycle(req, res);
  res.on('finish', bFinished); // after the SDK's own listener, which sends the segment
  ids.b_header = req.headers['x-amzn-trace-id'];
  ids.b_segment = seg.id;
  ids.b_trace = seg.trace_id;
  const sub = seg.addNewSubsegment('service-a-leaf');
  sub.namespace = 'remote';
  ids.b_subsegment = sub.id;
  get(leafUrl, { 'X-Amzn-Trace-Id': `Root=${seg.trace_id};Parent=${sub.id};Sampled=1` })
    .then((code) => {
      sub.http = { request: { method: 'GET', url: leafUrl }, response: { status: code } };
      sub.close();
      res.end('b'); // the segment closes (and is sent) when the response finishes
    }, (err) => {
      sub.close(err);
      res.statusCode = 502;
      res.end();
    });
});
const bUrl = `http://127.0.0.1:${serverB.address().port}/orders`;

// ---- the request, started in A
const root = tracer.startSpan('GET /checkout', {
  kind: SpanKind.SERVER,
  attributes: { 'http.request.method': 'GET', 'url.path': '/checkout', 'http.response.status_code': 200 },
}, ROOT_CONTEXT);
const rootCtx = trace.setSpan(ROOT_CONTEXT, root);
const client = tracer.startSpan('GET service-b', {
  kind: SpanKind.CLIENT,
  attributes: { 'http.request.method': 'GET', 'url.full': bUrl },
}, rootCtx);
const headers = {};
propagator.inject(trace.setSpan(rootCtx, client), headers, defaultTextMapSetter);
ids.a_trace = root.spanContext().traceId;
ids.a_root_span = root.spanContext().spanId;
ids.a_client_span = client.spanContext().spanId;
ids.a_sent_header = headers['X-Amzn-Trace-Id'] || headers['x-amzn-trace-id'];
const code = await get(bUrl, headers);
client.setAttribute('http.response.status_code', code);
client.end();
root.end();
await provider.forceFlush();
await provider.shutdown();
serverA.close();
serverB.close();
await bDone;
if (udpPending > 0) await new Promise((r) => { udpIdle = r; });
ids.b_status = code;
ids.udp_datagrams = udpSent;
ids.udp_payloads = udpPayloads;
process.stdout.write(JSON.stringify(ids) + '\n');
if (exportFailed) {
  process.stderr.write(`OTLP export failed: ${exportFailed}\n`);
  process.exit(1);
}
process.exit(0);
