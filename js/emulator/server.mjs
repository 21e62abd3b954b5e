// The Lightspeed Retail R-Series emulator: the API under /API/V3, OAuth under
// /auth/oauth, image files under /images, and the test controls under
// /_emulator (docs/PROTOCOL.md). Listens on 127.0.0.1 only.
import http from 'node:http';
import { EmulatorClock } from './clock.mjs';
import { ApiError, errorBody } from './wire.mjs';
import { listBody, parseListParams, parseLoadRelations, runList, singleBody } from './query.mjs';
import { registry, endpoints } from './registry.mjs';
import { requestCost } from './costs.mjs';
import { RateLimiter, defaultRateConfig } from './ratelimit.mjs';
import { DEMO_CLIENT, OAuthError, TokenStore } from './oauth.mjs';
import { seedState } from './seed.mjs';
import { imageFile } from './imageFiles.mjs';
import { handleControl } from './control.mjs';

export function defaultConfig() {
  return { rate_limit: defaultRateConfig(), token_ttl_s: 1800, latency_ms: 0, limit_over_max: 'error' };
}

export class Emulator {
  constructor({ seed = 'demo', rateLimit = true } = {}) {
    this.clock = new EmulatorClock();
    this.initialRateLimit = rateLimit;
    this.config = defaultConfig();
    this.config.rate_limit.enabled = rateLimit !== false;
    this.tokens = new TokenStore(this.clock, () => this.config.token_ttl_s);
    this.limiter = new RateLimiter(this.clock, () => this.config.rate_limit);
    this.faults = [];
    this.log = [];
    this.origin = '';
    this.hanging = new Set();
    this.seedName = seed;
    this.state = null;
  }
  get imageBaseURL() {
    return `${this.origin}/images/`;
  }
  reset(seed = 'demo') {
    const state = seedState(this.clock, seed, { imageBaseURL: this.imageBaseURL });
    state.config = this.config;
    this.seedName = seed;
    this.state = state;
    return state;
  }
}

function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

// Token endpoint bodies arrive form-encoded, as JSON, or multipart (curl -F).
function parseFormish(text, contentType = '') {
  if (!text) return {};
  if (/json/i.test(contentType) || /^\s*\{/.test(text)) {
    try {
      return JSON.parse(text);
    } catch {
      return {};
    }
  }
  const boundary = /boundary=("?)([^";]+)\1/i.exec(contentType)?.[2];
  if (boundary) {
    const out = {};
    for (const part of text.split(`--${boundary}`)) {
      const m = /name="([^"]+)"[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\n([\s\S]*?)\r?\n?$/.exec(part);
      if (m) out[m[1]] = m[2];
    }
    return out;
  }
  return Object.fromEntries(new URLSearchParams(text));
}

function matchFault(emu, method, path) {
  for (const f of emu.faults) {
    if (f.count <= 0) continue;
    if (f.method && f.method.toUpperCase() !== method) continue;
    if (f.re && !f.re.test(path)) continue;
    f.count--;
    return f;
  }
  return null;
}

export async function startEmulator({ port = 0, host = '127.0.0.1', seed = 'demo', rateLimit = true } = {}) {
  if (host !== '127.0.0.1' && host !== 'localhost') throw new Error('The emulator listens on 127.0.0.1 only.');
  const emu = new Emulator({ seed, rateLimit });
  const server = http.createServer((req, res) => {
    handle(emu, req, res).catch((err) => {
      if (!res.headersSent) send(res, 500, errorBody(500, `Emulator error: ${err.message}`, 'Exception'));
      else res.destroy();
    });
  });
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const actualPort = server.address().port;
  emu.origin = `http://127.0.0.1:${actualPort}`;
  emu.reset(seed);
  const url = emu.origin;
  return {
    url,
    apiBase: `${url}/API/V3`,
    tokenUrl: `${url}/auth/oauth/token`,
    accountId: String(DEMO_CLIENT.account_id),
    clientId: DEMO_CLIENT.client_id,
    clientSecret: DEMO_CLIENT.client_secret,
    emulator: emu,
    get state() {
      return emu.state;
    },
    close() {
      for (const r of emu.hanging) r.destroy();
      emu.hanging.clear();
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function handle(emu, req, res) {
  const u = new URL(req.url, emu.origin);
  const path = u.pathname;
  const method = req.method.toUpperCase();

  if (path.startsWith('/_emulator/')) {
    const text = await readBody(req);
    let body = {};
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        return send(res, 400, { error: 'invalid JSON body' });
      }
    }
    const out = handleControl(emu, method, path.slice('/_emulator/'.length), body, u.searchParams);
    return send(res, out.status ?? 200, out.body);
  }

  const entry = { time: emu.clock.nowMs(), method, path, query: u.search.replace(/^\?/, ''), status: null, cost: 0, bucket: null };
  emu.log.push(entry);
  if (emu.log.length > 200000) emu.log.splice(0, emu.log.length - 200000);

  const fault = matchFault(emu, method, path);
  if (fault?.action === 'hang') {
    // Never answer; the socket is closed when the emulator stops.
    entry.status = 'hang';
    emu.hanging.add(req.socket);
    req.resume();
    return;
  }
  if (fault?.action === 'status' || (fault && !fault.action)) {
    await readBody(req);
    const status = Number(fault.status ?? 500);
    entry.status = status;
    return send(res, status, fault.body ?? errorBody(status, `Injected fault: ${status}`, 'Exception'));
  }
  if (emu.config.latency_ms > 0) await new Promise((r) => setTimeout(r, emu.config.latency_ms));
  // delay: answered normally, but only after `ms` (a slow POS on some requests, e.g. a
  // sale post still in flight while another run starts).
  if (fault?.action === 'delay') await new Promise((r) => setTimeout(r, Number(fault.ms ?? 1000)));

  // drop_after_write: run the request, then destroy the socket unanswered.
  const respond = (status, body, headers = {}) => {
    entry.status = status;
    if (fault?.action === 'drop_after_write') {
      entry.status = 'dropped';
      entry.dropped_status = status;
      req.socket.destroy();
      return;
    }
    send(res, status, body, headers);
  };

  if (path.startsWith('/auth/oauth/')) return handleOAuth(emu, req, res, u, respond);
  if (path.startsWith('/images/')) return handleImage(emu, method, path, res, respond);
  if (path.startsWith('/API/V3/')) return handleApi(emu, req, u, method, path, entry, respond);
  return respond(404, errorBody(404, `No route for ${method} ${path}`, 'Exception'));
}

async function handleOAuth(emu, req, res, u, respond) {
  const path = u.pathname;
  try {
    if (path === '/auth/oauth/authorize' && req.method === 'GET') {
      // Authorization-code step, without a login screen: redirect with a code.
      const q = u.searchParams;
      const client = emu.tokens.clients.get(q.get('client_id') ?? '');
      if (!client) return respond(400, { error: 'invalid_client', error_description: 'Client authentication failed', hint: 'Unknown client_id', message: 'Client authentication failed' });
      const code = emu.tokens.mintCode(client.client_id);
      const redirect = q.get('redirect_uri');
      if (!redirect) return respond(200, { code, state: q.get('state') ?? '' });
      const target = new URL(redirect);
      target.searchParams.set('code', code);
      if (q.get('state') !== null) target.searchParams.set('state', q.get('state'));
      res.writeHead(302, { Location: target.toString() });
      res.end();
      return;
    }
    const text = await readBody(req);
    const params = parseFormish(text, req.headers['content-type']);
    if (path === '/auth/oauth/token' && req.method === 'POST') return respond(200, emu.tokens.grant(params));
    if (path === '/auth/oauth/revoke' && req.method === 'POST') {
      emu.tokens.revoke(params);
      return respond(200, {});
    }
    return respond(404, errorBody(404, 'Not Found', 'Exception'));
  } catch (err) {
    if (err instanceof OAuthError) return respond(err.status, err.body);
    throw err;
  }
}

function handleImage(emu, method, path, res, respond) {
  if (method !== 'GET' && method !== 'HEAD') return respond(405, errorBody(405, 'Method Not Allowed'));
  // …/images/<optional transformations>/<publicID>[.ext]: longest suffix match.
  const parts = decodeURIComponent(path.slice('/images/'.length)).split('/');
  let image = null;
  for (let i = 0; i < parts.length && !image; i++) {
    const candidate = parts.slice(i).join('/');
    image = emu.state.imagesByPublicID.get(candidate) ?? emu.state.imagesByPublicID.get(candidate.replace(/\.(png|jpe?g|webp|gif)$/i, ''));
  }
  if (!image) return respond(404, errorBody(404, `Image ${path} not found`));
  const { type, bytes } = imageFile(image);
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': bytes.length, 'Cache-Control': 'public, max-age=31536000' });
  res.end(method === 'HEAD' ? undefined : bytes);
}

const API_ROUTE = /^\/API\/V3\/Account(?:\/(\d+)(?:\/([A-Za-z]+)(?:\/([^/]+?))?(?:\/([A-Za-z]+))?)?)?(\.json)?$/;

async function handleApi(emu, req, u, method, path, entry, respond) {
  const m = API_ROUTE.exec(path);
  const text = await readBody(req);
  if (!m) return respond(404, errorBody(404, `Unknown endpoint ${path}`));
  const [, accountID, resource, id, action, json] = m;
  if (!json) {
    // Quirk: without .json Lightspeed answers XML; this emulator speaks JSON only.
    return respond(400, errorBody(400, 'Add the .json suffix: the emulator does not serve XML.'));
  }

  let auth;
  try {
    auth = emu.tokens.authenticate(req.headers.authorization);
  } catch (err) {
    if (err instanceof OAuthError) return respond(err.status, err.body);
    throw err;
  }
  const state = emu.state;
  const def = resource ? endpoints[resource] : registry.Account;
  const isList = !id && method === 'GET';
  let body = null;
  let bodyError = null;
  if (text && (method === 'POST' || method === 'PUT')) {
    try {
      body = JSON.parse(text);
    } catch {
      bodyError = 'Invalid JSON payload.';
    }
  }
  const params = u.searchParams;
  const cost = requestCost({ registry, def, method, action, params, body, isList });
  entry.cost = cost;
  const bucketKey = `${auth.accountId}:${auth.clientId}`;
  const rl = emu.limiter.take(bucketKey, cost);
  entry.bucket = rl.headers['X-LS-API-Bucket-Level'];
  const headers = { 'X-LS-Acct-Id': String(auth.accountId), 'X-LS-OAuth-Client-Id': auth.clientId, ...rl.headers };
  if (!rl.allowed) {
    headers['Retry-After'] = String(rl.retryAfter);
    headers['X-LS-API-RateLimit-Type'] = rl.type;
    const msg = rl.type === 'api-burst-limiter' ? 'Too Many Requests: burst rate limit exceeded.' : 'Too Many Requests: rate limit exceeded, wait for the bucket to drain.';
    return respond(429, errorBody(429, msg, 'Exception'), headers);
  }
  try {
    if (bodyError) throw new ApiError(400, bodyError);
    if (accountID && Number(accountID) !== auth.accountId) throw new ApiError(403, `This token has no access to account ${accountID}.`);
    if (!accountID) {
      // GET /API/V3/Account.json: the account list for this token.
      if (method !== 'GET') throw new ApiError(405, 'Method Not Allowed');
      const rows = state.tables.accounts.list.filter((a) => a.accountID === auth.accountId);
      return respond(200, listBody(registry, state, registry.Account, { rows, count: rows.length, attrs: {} }, { limit: 100, tree: {} }), headers);
    }
    if (!resource) {
      if (method !== 'GET') throw new ApiError(405, 'Method Not Allowed');
      const acct = state.tables.accounts.get(Number(accountID));
      return respond(200, singleBody(registry, state, registry.Account, acct, {}), headers);
    }
    if (!def) throw new ApiError(404, `Unknown resource '${resource}'.`);
    const out = execute(emu, state, def, method, id, action, params, body, u);
    return respond(out.status ?? 200, out.body, headers);
  } catch (err) {
    if (err instanceof ApiError) return respond(err.status, errorBody(err.status, err.message, err.errorClass), headers);
    throw err;
  }
}

function lookup(state, def, id) {
  const row = def.lookup ? def.lookup(state, id) : /^\d+$/.test(id) ? state.tables[def.table].get(Number(id)) : undefined;
  if (!row) throw new ApiError(404, `${def.name} ${id} not found.`);
  return row;
}

function execute(emu, state, def, method, id, action, params, body, u) {
  const ctx = { origin: emu.origin, pathname: u.pathname, params };
  if (action) {
    const a = def.actions?.[action];
    if (!a) throw new ApiError(404, `Unknown action '${action}' on ${def.name}.`);
    if (a.method !== method) throw new ApiError(405, `${def.name}/${action} needs ${a.method}.`);
    const row = lookup(state, def, id);
    const created = a.handler(state, row, body ?? {});
    const tree = { ...(def.writeRelations ?? {}), ...parseLoadRelations(registry, def, params.get('load_relations')) };
    return { body: singleBody(registry, state, def, created, tree) };
  }
  if (!id) {
    if (method === 'GET') {
      const q = parseListParams(registry, state, def, params);
      const result = runList(registry, state, def, q, ctx);
      return { body: listBody(registry, state, def, result, q) };
    }
    if (method === 'POST') {
      if (def.readOnly || !def.create) throw new ApiError(405, `${def.name} cannot be created through the API.`);
      const tree = { ...(def.writeRelations ?? {}), ...parseLoadRelations(registry, def, params.get('load_relations')) };
      const row = def.create(state, body ?? {});
      return { body: singleBody(registry, state, def, row, tree) };
    }
    throw new ApiError(405, `Method ${method} not allowed on ${def.name}.json`);
  }
  const tree = parseLoadRelations(registry, def, params.get('load_relations'));
  if (method === 'GET') return { body: singleBody(registry, state, def, lookup(state, def, id), tree) };
  if (method === 'PUT') {
    if (def.readOnly || !def.update) throw new ApiError(405, `${def.name} cannot be updated through the API.`);
    const row = def.update(state, lookup(state, def, id), body ?? {});
    return { body: singleBody(registry, state, def, row, { ...(def.writeRelations ?? {}), ...tree }) };
  }
  if (method === 'DELETE') {
    if (def.readOnly || !def.remove) throw new ApiError(405, `${def.name} cannot be deleted through the API.`);
    const row = def.remove(state, lookup(state, def, id));
    return { body: singleBody(registry, state, def, row, tree) };
  }
  throw new ApiError(405, `Method ${method} not allowed.`);
}
