// The X-Ray SDK for Node's centralized sampling through xraybridge's sampling proxy.
// Usage: AWS_XRAY_DAEMON_ADDRESS="udp:127.0.0.1:U tcp:127.0.0.1:T" node sampler_xray_sdk.mjs
// Prints one JSON line: whether the rules fetched over TCP took effect, and the
// decisions for a path whose rule has fixed rate 0 / reservoir 0.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'integration', 'package.json'));
const AWSXRay = require('aws-xray-sdk-core');

AWSXRay.setLogger({ error: () => {}, warn: () => {}, info: () => {}, debug: () => {} });
const sampler = AWSXRay.middleware.sampler;
const req = (urlPath) => ({ host: 'shop', httpMethod: 'GET', urlPath, serviceName: 'proxy-test' });

const deadline = Date.now() + 30000;
let rulesActive = false;
sampler.shouldSample(req('/public')); // starts the rule poller (first fetch at once)
while (Date.now() < deadline && !rulesActive) {
  let run = 0;
  while (run < 50 && sampler.shouldSample(req('/public'))) run++;
  rulesActive = run === 50;
  if (!rulesActive) await new Promise((r) => setTimeout(r, 50));
}
let privateSampled = 0;
for (let i = 0; i < 200; i++) privateSampled += sampler.shouldSample(req('/private/x')) ? 1 : 0;
console.log(JSON.stringify({ rulesActive, privateSampled }));
process.exit(0);
