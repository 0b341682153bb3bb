// The canonical msgpack encoding of docs/PROTOCOL.md §1, for what the browser hashes or signs:
// shortest forms, map keys sorted by their UTF-8 bytes, no floats. Values: null, booleans,
// integers (Number or BigInt), strings, Uint8Array (bytes), arrays and plain objects.

import { t } from "./i18n.js";

const encoder = new TextEncoder();

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) { out.set(part, offset); offset += part.length; }
  return out;
}

function bigEndian(value, size) {
  const out = new Uint8Array(size);
  let rest = BigInt.asUintN(8 * size, value);
  for (let i = size - 1; i >= 0; i--) { out[i] = Number(rest & 0xffn); rest >>= 8n; }
  return out;
}

function integer(n) {
  const value = BigInt(n);
  if (value >= 0n) {
    if (value < 128n) return Uint8Array.of(Number(value));
    for (const [tag, size] of [[0xcc, 1], [0xcd, 2], [0xce, 4], [0xcf, 8]]) {
      if (value < 1n << BigInt(8 * size)) return concat(Uint8Array.of(tag), bigEndian(value, size));
    }
    throw new RangeError(t("integer above 2^64-1"));
  }
  if (value >= -32n) return Uint8Array.of(Number(value) & 0xff);
  for (const [tag, size] of [[0xd0, 1], [0xd1, 2], [0xd2, 4], [0xd3, 8]]) {
    if (value >= -(1n << BigInt(8 * size - 1))) return concat(Uint8Array.of(tag), bigEndian(value, size));
  }
  throw new RangeError(t("integer below -2^63"));
}

// A length header: a fix form when it fits, else the 8/16/32-bit forms (tag8 null: no 8-bit form).
function header(length, fix, fixMax, tag8, tag16, tag32) {
  if (fix !== null && length <= fixMax) return Uint8Array.of(fix | length);
  if (tag8 !== null && length <= 0xff) return Uint8Array.of(tag8, length);
  if (length <= 0xffff) return Uint8Array.of(tag16, length >> 8, length & 0xff);
  return concat(Uint8Array.of(tag32), bigEndian(BigInt(length), 4));
}

const text = (s) => { const bytes = encoder.encode(s); return concat(header(bytes.length, 0xa0, 31, 0xd9, 0xda, 0xdb), bytes); };

function compareBytes(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

export function canonical(value) {
  if (value === null || value === undefined) return Uint8Array.of(0xc0);
  if (value === false) return Uint8Array.of(0xc2);
  if (value === true) return Uint8Array.of(0xc3);
  if (typeof value === "bigint") return integer(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new TypeError(t("no floats (or unsafe integers) in canonical values"));
    return integer(value);
  }
  if (typeof value === "string") return text(value);
  if (value instanceof Uint8Array) return concat(header(value.length, null, -1, 0xc4, 0xc5, 0xc6), value);
  if (Array.isArray(value)) return concat(header(value.length, 0x90, 15, null, 0xdc, 0xdd), ...value.map(canonical));
  const entries = Object.entries(value).filter(([, v]) => v !== undefined)
    .map(([k, v]) => [encoder.encode(k), v]).sort(([a], [b]) => compareBytes(a, b));
  const parts = entries.flatMap(([key, v]) => [concat(header(key.length, 0xa0, 31, 0xd9, 0xda, 0xdb), key), canonical(v)]);
  return concat(header(entries.length, 0x80, 15, null, 0xde, 0xdf), ...parts);
}
