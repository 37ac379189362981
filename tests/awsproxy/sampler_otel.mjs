// The OpenTelemetry JS X-Ray remote sampler pointed at xraybridge's sampling proxy.
// Usage: node sampler_otel.mjs PROXY_URL FAKE_STATS_URL
// Prints one JSON line: whether the rules from X-Ray took effect through the proxy, the
// decisions for a path whose rule has fixed rate 0 / reservoir 0 and for one whose rule
// samples everything, and the fake endpoint's count of SamplingTargets calls.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'integration', 'package.json'));
const api = require('@opentelemetry/api');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { SamplingDecision } = require('@opentelemetry/sdk-trace-base');
const { AWSXRayRemoteSampler } = require('@opentelemetry/sampler-aws-xray');

const [proxyUrl, statsUrl] = process.argv.slice(2);
const sampler = new AWSXRayRemoteSampler({
  endpoint: proxyUrl,
  pollingInterval: 10,
  resource: resourceFromAttributes({ 'service.name': 'proxy-test' }),
});
// Random ids: the 5 % ratio part of the fallback sampler keys on the trace id.
const traceId = () => randomBytes(16).toString('hex');
const sampled = (p) =>
  sampler.shouldSample(api.ROOT_CONTEXT, traceId(), 'GET ' + p, api.SpanKind.SERVER,
    { 'url.path': p, 'http.request.method': 'GET', 'server.address': 'shop' }, [])
    .decision === SamplingDecision.RECORD_AND_SAMPLED;
const stats = async () => (await fetch(statsUrl)).json();

const deadline = Date.now() + 30000;
let rulesActive = false;
// The fallback (1/s + 5 %) cannot sample 50 spans in a row: when it happens, the rule
// with fixed rate 1 came through the proxy.
while (Date.now() < deadline && !rulesActive) {
  let run = 0;
  while (run < 50 && sampled('/public')) run++;
  rulesActive = run === 50;
  if (!rulesActive) await new Promise((r) => setTimeout(r, 50));
}
let privateSampled = 0;
for (let i = 0; i < 200; i++) privateSampled += sampled('/private/x') ? 1 : 0;
let publicSampled = 0;
for (let i = 0; i < 200; i++) publicSampled += sampled('/public') ? 1 : 0;
// Targets are polled 10 s (+ jitter) after start: wait for one to reach X-Ray.
const before = (await stats()).calls['/SamplingTargets'] || 0;
let targets = 0;
while (Date.now() < deadline + 10000 && targets === 0) {
  targets = ((await stats()).calls['/SamplingTargets'] || 0) - before;
  if (targets === 0) await new Promise((r) => setTimeout(r, 100));
}
sampler.stopPollers?.();
console.log(JSON.stringify({ rulesActive, privateSampled, publicSampled, targets }));
process.exit(0);
