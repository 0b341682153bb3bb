// The node's JSON-RPC over fetch (POST /) and its websocket subscriptions (/ws).
// Integers beyond 2^53 (amounts are u64) are parsed exactly, as BigInt.

import { setAssets, setNameResolver } from "./format.js";
import { t } from "./i18n.js";

export const METHOD_NOT_FOUND = -32601;
export const NOT_FOUND = -32001;

export class RpcError extends Error {
  constructor(error, method) {
    super(error.message || t("RPC error"));
    this.code = error.code;
    this.data = error.data;
    this.method = method;
  }

  get missingMethod() {
    return this.code === METHOD_NOT_FOUND;
  }
}

// JSON.parse that keeps integers beyond 2^53 exact, as BigInt (safe integers and other numbers stay Numbers).
// Engines that hand revivers the source text (JSON.parse source text access) use it; elsewhere every
// integer literal of 16 digits or more (below that all are safe) is first quoted with a mark the text
// does not contain, and revived from its digits.
export function parseJson(text) {
  if (REVIVER_SOURCE) {
    return JSON.parse(text, (key, value, context) =>
      (typeof value === "number" && !Number.isSafeInteger(value) && /^-?\d+$/.test(context.source) ? BigInt(context.source) : value));
  }
  let mark = "\u0000int";
  while (text.includes(JSON.stringify(mark).slice(1, -1))) mark += "_";
  let marked = false;
  const quoted = text.replace(JSON_TOKEN, (token) => {
    if (token[0] === '"' || !/^-?\d{16,}$/.test(token)) return token;
    marked = true;
    return JSON.stringify(mark + token);
  });
  if (!marked) return JSON.parse(text);
  return JSON.parse(quoted, (key, value) => {
    if (typeof value !== "string" || !value.startsWith(mark)) return value;
    const digits = value.slice(mark.length);
    return Number.isSafeInteger(Number(digits)) ? Number(digits) : BigInt(digits);
  });
}

// A JSON string or number token (scanning from the start, a number is always matched whole).
const JSON_TOKEN = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
const REVIVER_SOURCE = (() => {
  let seen = false;
  JSON.parse("1", (key, value, context) => { seen = typeof context?.source === "string"; return value; });
  return seen;
})();

// JSON.stringify that writes BigInt values as exact JSON integers.
function stringify(value) {
  const text = JSON.stringify(value, (key, v) => (typeof v === "bigint" ? `\u0000big:${v}` : v));
  return text.replace(/"\\u0000big:(-?\d+)"/g, "$1");
}

let nextId = 1;

// How many RPC requests are on the wire now: a page is settled (e.g. for a screenshot, tests/web/driver.mjs
// `settle`) when none is and nothing says "Loading…".
let inFlight = 0;
globalThis.marketnodeRpcInFlight = () => inFlight;

async function post(body) {
  inFlight += 1;
  try {
    const response = await fetch("/", { method: "POST", headers: { "Content-Type": "application/json" }, body });
    return parseJson(await response.text());
  } finally {
    inFlight -= 1;
  }
}

export async function rpc(method, params = {}) {
  const id = nextId++;
  const reply = await post(stringify({ jsonrpc: "2.0", id, method, params: dropNulls(params) }));
  if (reply.error) throw new RpcError(reply.error, method);
  return reply.result;
}

// Several calls in one request; each entry is {result} or {error: RpcError}.
export async function rpcBatch(calls) {
  const base = nextId;
  nextId += calls.length;
  const body = calls.map(([method, params], i) => ({ jsonrpc: "2.0", id: base + i, method, params: dropNulls(params || {}) }));
  const replies = await post(stringify(body));
  // A refused batch (rate limit, size) is one error object for all of it.
  const whole = Array.isArray(replies) ? null : replies.error;
  const byId = new Map((Array.isArray(replies) ? replies : []).map((r) => [r.id, r]));
  return calls.map(([method], i) => {
    const reply = byId.get(base + i) || { error: whole || { code: -32603, message: t("no answer") } };
    return reply.error ? { error: new RpcError(reply.error, method) } : { result: reply.result };
  });
}

function dropNulls(params) {
  if (Array.isArray(params)) return params;
  return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ""));
}

// Asset decimals for amounts (asset_list, else the genesis assets) and the native asset fees are paid in.
let assetsLoaded = null;
let native = "MKT";
let params = null;
export const nativeAsset = () => native;
// The chain's genesis params (min_fee, windows, ...), once loadAssets has run.
export const chainParams = async () => { await loadAssets(); return params; };

export function loadAssets() {
  assetsLoaded ??= (async () => {
    const [assets, genesis] = await rpcBatch([["asset_list", { limit: 100 }], ["chain_getGenesis"]]);
    const doc = genesis.result?.genesis;
    params = doc?.params ?? null;
    native = params?.native_asset ?? native;
    if (assets.result) setAssets(assets.result.items);
    else if (doc) setAssets([{ asset: native, decimals: 0 }, ...(doc.assets ?? [])]);
  })().catch(() => { assetsLoaded = null; }); // amounts fall back to smallest units; retried on the next page
  return assetsLoaded;
}

// --- websocket subscriptions -----------------------------------------------------------------

// One shared connection; reconnects with backoff and resubscribes. Listeners of "state" hear
// "open" | "closed" so pages can say whether updates are live.
class Live {
  constructor() {
    this.socket = null;
    this.subs = new Map(); // local id -> {topic, filter, callback, remoteId}
    this.pending = new Map(); // rpc id -> resolve
    this.localId = 0;
    this.backoffMs = 500;
    this.stateListeners = new Set();
    this.state = "closed";
  }

  connect() {
    if (this.socket) return;
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.backoffMs = 500;
      this.setState("open");
      for (const [id, sub] of this.subs) this.sendSubscribe(id, sub);
    });
    socket.addEventListener("message", (event) => this.onMessage(parseJson(event.data)));
    socket.addEventListener("close", () => {
      this.socket = null;
      this.setState("closed");
      for (const sub of this.subs.values()) sub.remoteId = null;
      if (this.subs.size) setTimeout(() => this.connect(), this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, 10_000);
    });
  }

  setState(state) {
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  onMessage(message) {
    if (message.method === "subscription") {
      const { subscription, result } = message.params;
      for (const sub of this.subs.values()) if (sub.remoteId === subscription) sub.callback(result);
      return;
    }
    const resolve = this.pending.get(message.id);
    if (resolve) {
      this.pending.delete(message.id);
      resolve(message);
    }
  }

  call(method, params) {
    const id = `w${nextId++}`;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.socket.send(stringify({ jsonrpc: "2.0", id, method, params }));
    });
  }

  async sendSubscribe(localId, sub) {
    const reply = await this.call("subscribe", sub.filter ? { topic: sub.topic, filter: sub.filter } : { topic: sub.topic });
    if (!this.subs.has(localId)) { // left the page meanwhile
      if (reply.result) this.call("unsubscribe", { subscription: reply.result });
      return;
    }
    if (reply.error) sub.onError?.(new RpcError(reply.error, "subscribe"));
    else sub.remoteId = reply.result;
  }

  // Returns a function that cancels the subscription.
  subscribe(topic, filter, callback, onError) {
    const localId = ++this.localId;
    const sub = { topic, filter, callback, onError, remoteId: null };
    this.subs.set(localId, sub);
    if (this.socket?.readyState === WebSocket.OPEN) this.sendSubscribe(localId, sub);
    else this.connect();
    return () => {
      this.subs.delete(localId);
      if (sub.remoteId && this.socket?.readyState === WebSocket.OPEN) this.call("unsubscribe", { subscription: sub.remoteId });
    };
  }

  onState(listener) {
    this.stateListeners.add(listener);
    listener(this.state);
    return () => this.stateListeners.delete(listener);
  }
}

export const live = new Live();

// One run of `refresh` at a time; calls that arrive meanwhile collapse into one more run after it.
function coalesce(refresh) {
  let running = null;
  let again = false;
  const run = async () => {
    if (running) { again = true; return running; }
    running = (async () => {
      do {
        again = false;
        try { await refresh(); } catch (error) { console.warn("refresh failed", error); }
      } while (again);
      running = null;
    })();
    return running;
  };
  return run;
}

// Call `refresh` on every event of `topic` and, as a fallback when the node publishes nothing
// (or the socket is down), every `pollMs`; never two refreshes at once.
// Returns {refresh, stop}: refresh now (for the first draw), and stop when leaving the page.
export function follow(topic, filter, refreshPage, pollMs = 4000) {
  const refresh = coalesce(refreshPage);
  let lastEvent = 0;
  const unsubscribe = live.subscribe(topic, filter, () => {
    lastEvent = Date.now();
    refresh();
  });
  const timer = setInterval(() => {
    if (Date.now() - lastEvent > pollMs) refresh();
  }, pollMs);
  const stop = () => {
    unsubscribe();
    clearInterval(timer);
  };
  return { refresh, stop };
}

// Display names of accounts (from `register`), fetched in one batch per burst of links, cached.
const names = new Map(); // address -> Promise<string | null>
let queued = [];
function resolveName(address) {
  if (!names.has(address)) {
    names.set(address, new Promise((resolve) => {
      queued.push([address, resolve]);
      if (queued.length === 1) setTimeout(flushNames, 0);
    }));
  }
  return names.get(address);
}

async function flushNames() {
  const batch = queued.splice(0, 100);
  if (queued.length) setTimeout(flushNames, 0);
  try {
    const answers = await rpcBatch(batch.map(([address]) => ["account_get", { address }]));
    answers.forEach((a, i) => batch[i][1](a.result?.profile?.name ?? null));
  } catch {
    for (const [, resolve] of batch) resolve(null);
  }
}

setNameResolver(resolveName);
