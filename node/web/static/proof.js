// Checks done in the browser, trusting nothing but the validator set: a tx's Merkle inclusion
// proof against its block header (docs/PROTOCOL.md §7), the header's hash against the commit
// certificate, and the certificate's ed25519 COMMIT signatures (§6.3) where WebCrypto has Ed25519.

import { canonical, concat } from "./canonical.js";
import { t } from "./i18n.js";

const encoder = new TextEncoder();

export function fromHex(hex) {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

// digest(tag, data) = sha256("marketnode:" ‖ tag ‖ ":" ‖ data)
export function digest(tag, data) {
  return sha256(concat(encoder.encode(`marketnode:${tag}:`), data));
}

const leaf = (item) => digest("merkle-leaf", item);
const node = (left, right) => digest("merkle-node", concat(left, right));

// The proof verification of §7; `size` must come from the signed header's tx_count.
export async function verifyInclusion(rootHex, itemHex, proof, size) {
  const { index } = proof;
  if (proof.size !== size || !(index >= 0 && index < size)) return false;
  let hash = await leaf(fromHex(itemHex));
  let i = index;
  let width = size;
  const path = proof.path.map(fromHex);
  let step = 0;
  while (width > 1) {
    if ((i ^ 1) < width) {
      if (step >= path.length) return false;
      const sibling = path[step++];
      hash = i & 1 ? await node(sibling, hash) : await node(hash, sibling);
    }
    width = Math.ceil(width / 2);
    i = Math.floor(i / 2);
  }
  return step === path.length && toHex(hash) === rootHex;
}

// An account's mn1 address from its public key (core/keys.py): base32 of key ‖ 4-byte checksum.
const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
export async function addressOf(publicKeyHex) {
  const key = fromHex(publicKeyHex);
  const checksum = (await digest("address", concat(encoder.encode("mn"), key))).slice(0, 4);
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of concat(key, checksum)) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return `mn1${out}`;
}

const HEADER_BYTES = new Set(["parent_hash", "proposer", "tx_root", "state_root", "last_cert_hash", "evidence_root"]);

export async function headerHash(header) {
  const entries = Object.fromEntries(Object.entries(header).map(([k, v]) => [k, HEADER_BYTES.has(k) ? fromHex(v) : v]));
  return toHex(await digest("header", canonical(entries)));
}

// The public key inside an mn1 address; throws on a typo (bad alphabet, length or checksum).
export async function publicKeyOf(address) {
  const body = String(address).trim().toLowerCase();
  if (!/^mn1[a-z2-7]{58}$/.test(body)) throw new Error(t("{address} is not a marketnode address (mn1 + 58 base32 characters)", { address }));
  const bytes = [];
  let bits = 0;
  let value = 0;
  for (const char of body.slice(3)) {
    value = (value << 5) | BASE32.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
    value &= (1 << bits) - 1;
  }
  const key = toHex(Uint8Array.from(bytes.slice(0, 32)));
  if ((await addressOf(key)) !== body) throw new Error(t("{address} has a bad checksum (mistyped?)", { address }));
  return fromHex(key);
}

// --- ed25519 certificate signatures -----------------------------------------------------------

let ed25519Support = null;
export function hasEd25519() {
  ed25519Support ??= (async () => {
    try {
      await crypto.subtle.importKey("raw", new Uint8Array(32).fill(1), { name: "Ed25519" }, false, ["verify"]);
      return true;
    } catch {
      return false;
    }
  })();
  return ed25519Support;
}

function voteMessage(cert, validatorHex) {
  const unsigned = canonical({
    block_hash: fromHex(cert.block_hash), chain_id: cert.chain_id, height: cert.height, phase: 2,
    validator: fromHex(validatorHex), view: cert.view,
  });
  return concat(encoder.encode(`marketnode-sig:vote:${cert.chain_id}:`), unsigned);
}

// Per signer: {validator, valid: true | false | null (cannot check here)}, and whether a quorum signed.
export async function verifyCertificate(cert, validatorKeys) {
  const known = new Set(validatorKeys);
  const supported = await hasEd25519();
  const signers = [];
  for (const [validator, sig] of cert.signatures) {
    let valid = null;
    if (!known.has(validator)) valid = false;
    else if (supported) {
      try {
        const key = await crypto.subtle.importKey("raw", fromHex(validator), { name: "Ed25519" }, false, ["verify"]);
        valid = await crypto.subtle.verify({ name: "Ed25519" }, key, fromHex(sig), voteMessage(cert, validator));
      } catch {
        valid = false;
      }
    }
    signers.push({ validator, valid });
  }
  const n = validatorKeys.length;
  const f = Math.floor((n - 1) / 3);
  const quorum = Math.floor((n + f) / 2) + 1;
  const distinct = new Set(signers.filter((s) => s.valid !== false).map((s) => s.validator)).size;
  return { supported, signers, quorum, quorumMet: distinct >= quorum && signers.every((s) => s.valid !== false) };
}

// --- state and receipt proofs (docs/PROTOCOL.md §7.2-7.3) -------------------------------------

const bitOf = (path, depth) => (path[depth >> 3] >> (7 - (depth & 7))) & 1;
const EMPTY = new Uint8Array(32);

// §7.2: does `proof` show that key (hex) holds value (hex; null = absent) under rootHex?
export async function verifyStateProof(rootHex, keyHex, valueHex, proof) {
  const path = await digest("smt-key", fromHex(keyHex));
  const siblings = (proof.siblings || []).map(fromHex);
  const depth = siblings.length;
  if (depth > 256) return false;
  let hash;
  if (valueHex !== null) {
    const valueHash = await digest("smt-value", fromHex(valueHex));
    if (!proof.leaf || proof.leaf.path !== toHex(path) || proof.leaf.value_hash !== toHex(valueHash)) return false;
    hash = await digest("smt-leaf", concat(path, valueHash));
  } else if (proof.leaf === null) {
    hash = EMPTY;
  } else {
    const other = fromHex(proof.leaf.path);
    if (toHex(other) === toHex(path)) return false;
    for (let d = 0; d < depth; d++) if (bitOf(other, d) !== bitOf(path, d)) return false;
    hash = await digest("smt-leaf", concat(other, fromHex(proof.leaf.value_hash)));
  }
  for (let d = depth - 1; d >= 0; d--) {
    hash = bitOf(path, d) ? await digest("smt-node", concat(siblings[d], hash)) : await digest("smt-node", concat(hash, siblings[d]));
  }
  return toHex(hash) === rootHex;
}

// A reader for the canonical msgpack of §1 (enough for receipts): bytes come back as hex.
export function decodeCanonical(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const take = (n) => { if (at + n > bytes.length) throw new Error(t("truncated")); const s = bytes.subarray(at, at + n); at += n; return s; };
  const uint = (n) => { let v = 0n; for (const b of take(n)) v = (v << 8n) | BigInt(b); return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v; };
  const text = (n) => new TextDecoder().decode(take(n));
  const many = (n, f) => Array.from({ length: n }, f);
  const value = () => {
    const tag = take(1)[0];
    if (tag <= 0x7f) return tag;
    if (tag >= 0xe0) return tag - 0x100;
    if ((tag & 0xf0) === 0x80) return map(tag & 0x0f);
    if ((tag & 0xf0) === 0x90) return many(tag & 0x0f, value);
    if ((tag & 0xe0) === 0xa0) return text(tag & 0x1f);
    switch (tag) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return toHex(take(uint(1)));
      case 0xc5: return toHex(take(uint(2)));
      case 0xc6: return toHex(take(uint(4)));
      case 0xcc: return uint(1);
      case 0xcd: return uint(2);
      case 0xce: return uint(4);
      case 0xcf: return uint(8);
      case 0xd0: { const v = view.getInt8(at); at += 1; return v; }
      case 0xd1: { const v = view.getInt16(at); at += 2; return v; }
      case 0xd2: { const v = view.getInt32(at); at += 4; return v; }
      case 0xd3: { const v = view.getBigInt64(at); at += 8; return v; }
      case 0xd9: return text(uint(1));
      case 0xda: return text(uint(2));
      case 0xdb: return text(uint(4));
      case 0xdc: return many(uint(2), value);
      case 0xdd: return many(uint(4), value);
      case 0xde: return map(uint(2));
      case 0xdf: return map(uint(4));
      default: throw new Error(t("unsupported msgpack byte {tag}", { tag }));
    }
  };
  const map = (n) => Object.fromEntries(many(n, () => [value(), value()]));
  const out = value();
  if (at !== bytes.length) throw new Error(t("trailing bytes"));
  return out;
}

// A tx_get answer's outcome, checked here: the receipt's path to its block's receipts root, that root
// proven in the state (key rcpt/<u64 height>) under a header certified by the validators. Returns the
// checks, each {ok, text}, and the proven receipt ({ok, code, ...}) or null.
export async function verifyReceiptProof(status, validatorKeys) {
  const checks = [];
  const add = (ok, text) => { checks.push({ ok, text }); return ok; };
  const rp = status.receipt_proof;
  const height = status.inclusion.header.height;
  const key = toHex(concat(encoder.encode("rcpt/"), fromHex(BigInt(height).toString(16).padStart(16, "0"))));
  const entry = (rp.state.proofs || []).find((p) => p.key === key);
  let receipt = null;
  try { receipt = decodeCanonical(fromHex(rp.receipt)); } catch { receipt = null; }
  add(receipt !== null && receipt.tx_hash === status.hash, receipt && receipt.tx_hash === status.hash
    ? (receipt.ok ? t("The proven receipt is this tx's: ok.") : t("The proven receipt is this tx's: failed with {code}.", { code: receipt.code })) : t("The proven receipt is not this tx's (or does not decode)."));
  const rootBytes = entry && entry.value && entry.value.length === 68 && entry.value.startsWith("c420") ? entry.value.slice(4) : null;
  const receiptHash = toHex(await digest("receipt", fromHex(rp.receipt)));
  const pathOk = rootBytes !== null && rp.path.index === status.inclusion.proof.index
    && await verifyInclusion(rootBytes, receiptHash, rp.path, status.inclusion.header.tx_count);
  add(pathOk, pathOk ? t("Its Merkle path leads to the block's receipts root.") : t("Its Merkle path does NOT lead to the block's receipts root."));
  const anchor = rp.state.header;
  const stateOk = entry !== undefined && anchor.height === rp.state.height + 1 && rp.state.height >= height
    && await verifyStateProof(anchor.state_root, key, entry.value, entry.proof);
  add(stateOk, stateOk ? t("That root is in the state after block #{height}, proven against header #{anchor}'s state root.", { height: rp.state.height, anchor: anchor.height })
    : t("The receipts root is NOT proven against the anchor header's state root."));
  const hashOk = (await headerHash(anchor)) === rp.state.certificate.block_hash;
  add(hashOk, hashOk ? t("The anchor header is the block its certificate signs.") : t("The anchor header does not hash to the certified block."));
  const cert = await verifyCertificate(rp.state.certificate, validatorKeys);
  if (cert.supported) add(cert.quorumMet, cert.quorumMet ? t("A quorum ({n}) of validators signed the anchor block.", { n: cert.quorum }) : t("The anchor certificate lacks a quorum."));
  const agrees = receipt !== null && (status.status === "committed") === (receipt.ok === true) && status.receipt?.code === receipt.code;
  add(agrees, agrees ? t("The status shown matches the proven receipt.") : t("The status shown does NOT match the proven receipt."));
  return { checks, receipt, verified: checks.every((c) => c.ok), signaturesChecked: cert.supported };
}
