// The in-browser wallet: an ed25519 key made or imported here and kept in localStorage, encrypted
// with a passphrase (PBKDF2-SHA256 -> AES-GCM). Txs are built and signed here (docs/PROTOCOL.md §5);
// the node only ever receives signed txs. The unlocked key lives in memory until lock or reload.

import { RpcError, chainParams, rpc } from "./api.js";
import { canonical, concat } from "./canonical.js";
import { deliver } from "./delivery.js";
import { boxKeyFromSeed } from "./messages.js";
import { signWith } from "./multisig.js";
import { addressOf, fromHex, publicKeyOf, toHex } from "./proof.js";
import { t } from "./i18n.js";

const STORE_KEY = "marketnode.wallet";
const PBKDF2_ITERATIONS = 310_000;
const PKCS8_ED25519_PREFIX = fromHex("302e020100300506032b657004220420"); // followed by the 32-byte seed
const encoder = new TextEncoder();

let unlocked = null; // {address, publicKey: Uint8Array, signingKey: CryptoKey, boxKey: CryptoKey}
const listeners = new Set();

export function onWalletChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function changed() {
  for (const listener of listeners) listener(state());
}

export function stored() {
  try { return JSON.parse(localStorage.getItem(STORE_KEY)); } catch { return null; }
}

// "none" | "locked" | "unlocked", and the address when there is a key.
export function state() {
  if (unlocked) return { status: "unlocked", address: unlocked.address };
  const saved = stored();
  return saved ? { status: "locked", address: saved.address } : { status: "none" };
}

export const current = () => unlocked;

export async function keyFromSeed(seed) {
  const pkcs8 = concat(PKCS8_ED25519_PREFIX, seed);
  const extractable = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]);
  const jwk = await crypto.subtle.exportKey("jwk", extractable); // carries x, the public key
  const publicKey = Uint8Array.from(atob(jwk.x.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
  const signingKey = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, false, ["sign"]);
  const boxKey = await boxKeyFromSeed(seed); // X25519, to open messages (docs/PROTOCOL.md §11)
  return { publicKey, signingKey, boxKey, address: await addressOf(toHex(publicKey)) };
}

async function passphraseKey(passphrase, salt) {
  const material = await crypto.subtle.importKey("raw", encoder.encode(passphrase), "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt, iterations: PBKDF2_ITERATIONS },
    material, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}

// Store `seed` (32 bytes) encrypted under `passphrase`, and unlock it. `account`: the address the key signs
// for when it is not the key's own (after a rotation or a recovery, docs/WALLET.md).
export async function save(seed, passphrase, account = null) {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new Error(t("a key is a 32-byte seed (64 hex characters)"));
  if (!passphrase || passphrase.length < 8) throw new Error(t("choose a passphrase of at least 8 characters"));
  const key = await keyFromSeed(seed);
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(key.address) },
    await passphraseKey(passphrase, salt), seed);
  const other = account && account !== key.address ? { key_address: key.address } : {};
  localStorage.setItem(STORE_KEY, JSON.stringify({
    version: 1, address: account || key.address, ...other, kdf: { name: "PBKDF2-SHA256", iterations: PBKDF2_ITERATIONS, salt: toHex(salt) },
    cipher: { name: "AES-256-GCM", iv: toHex(iv) }, ciphertext: toHex(new Uint8Array(sealed)),
  }));
  unlocked = { ...key, keyAddress: key.address, address: account || key.address };
  changed();
  return unlocked.address;
}

export function create(passphrase) {
  return save(crypto.getRandomValues(new Uint8Array(32)), passphrase);
}

async function decryptSeed(passphrase) {
  const saved = stored();
  if (!saved) throw new Error(t("there is no key in this browser"));
  try {
    const aes = await passphraseKey(passphrase, fromHex(saved.kdf.salt));
    return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromHex(saved.cipher.iv), additionalData: encoder.encode(saved.key_address ?? saved.address) },
      aes, fromHex(saved.ciphertext)));
  } catch {
    throw new Error(t("wrong passphrase (or the stored key was altered)"));
  }
}

// The seed as hex, for a backup the user writes down; asks for the passphrase again.
export async function revealSeed(passphrase) {
  return toHex(await decryptSeed(passphrase));
}

export async function unlock(passphrase) {
  const seed = await decryptSeed(passphrase);
  const key = await keyFromSeed(seed);
  unlocked = { ...key, keyAddress: key.address, address: stored().address };
  seed.fill(0);
  changed();
  return unlocked.address;
}

export function lock() {
  unlocked = null;
  changed();
}

export function forget() {
  localStorage.removeItem(STORE_KEY);
  lock();
}

// The signed tx's canonical bytes for `unsigned` ({body, chain_id, fee, kind, nonce, sender}).
export async function signTx(unsigned, signingKey) {
  const message = concat(encoder.encode(`marketnode-sig:tx:${unsigned.chain_id}:`), canonical(unsigned));
  const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, signingKey, message));
  return canonical({ ...unsigned, sig });
}

// sha256 of a text, as the bytes a `*_hash` field holds (the text itself stays off chain).
export async function textHash(value) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(value)));
}

function base64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

// Store bytes on this node's content store, signed by the unlocked key (docs/PROTOCOL.md §10); resolves with
// their sha256, the hash a tx references. `kind` is "image" or "text" (the node checks the bytes agree).
export async function putContent(bytes, kind) {
  if (!unlocked) throw new Error(t("unlock the wallet first"));
  const status = await rpc("node_status");
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const timeMs = Date.now();
  const message = concat(encoder.encode(`marketnode-sig:content-upload:${status.chain_id}:`),
    canonical({ hash, time_ms: timeMs, uploader: unlocked.publicKey }));
  const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, unlocked.signingKey, message));
  await rpc("content_put", { hash: toHex(hash), data: base64(bytes), uploader: unlocked.keyAddress, time_ms: timeMs, signature: toHex(sig), kind });
  return hash;
}

// A photo without its metadata (EXIF with a phone's GPS position, XMP, comments), pixels untouched: the same
// segments and chunks wallet/content.py strip_metadata drops. Anything else comes back unchanged.
export function stripMetadata(bytes) {
  const at = (i) => (bytes[i] << 8) | bytes[i + 1];
  const parts = [];
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    parts.push(bytes.subarray(0, 2));
    let i = 2;
    while (i + 4 <= bytes.length && bytes[i] === 0xff && bytes[i + 1] !== 0xda) {
      const length = at(i + 2);
      if (length < 2 || i + 2 + length > bytes.length) return bytes;
      if (![0xe1, 0xed, 0xfe].includes(bytes[i + 1])) parts.push(bytes.subarray(i, i + 2 + length));
      i += 2 + length;
    }
    parts.push(bytes.subarray(i));
    return concat(...parts);
  }
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (png.every((b, k) => bytes[k] === b)) {
    parts.push(bytes.subarray(0, 8));
    let i = 8;
    while (i + 12 <= bytes.length) {
      const length = ((bytes[i] << 24) >>> 0) + (bytes[i + 1] << 16) + (bytes[i + 2] << 8) + bytes[i + 3];
      const kind = String.fromCharCode(...bytes.subarray(i + 4, i + 8));
      const end = i + 12 + length;
      if (end > bytes.length) return bytes;
      if (!["eXIf", "tEXt", "zTXt", "iTXt", "tIME"].includes(kind)) parts.push(bytes.subarray(i, end));
      i = end;
      if (kind === "IEND") break;
    }
    parts.push(bytes.subarray(i));
    return concat(...parts);
  }
  return bytes;
}

// Upload a text (review, reply, dispute statement, ruling) and return its hash for the tx.
export const putText = (value) => putContent(encoder.encode(value), "text");

// The tx hash of signed canonical bytes: sha256 under the domain "tx" (docs/PROTOCOL.md).
export async function txHash(raw) {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", concat(encoder.encode("marketnode:tx:"), raw))));
}

// A market rule would refuse the tx on the node's current state (tx_estimate): it was not sent, no fee paid.
export class TxRefused extends Error {
  constructor(kind, verdict) {
    super(t("{kind} would fail: {code}: {message} (nothing was sent, no fee paid)", { kind, code: verdict.code, message: verdict.message }));
    this.code = verdict.code;
  }
}

// Build, sign and send one tx from the unlocked key; resolves with its committed status. First the node
// tries it on its current state (tx_estimate) and a refusal throws TxRefused before anything is sent,
// unless `check` is false. A busy node is asked again after its hint and a lost tx sent again
// (delivery.js); `notice` hears each wait.
export async function send(kind, body, notice = () => {}, { check = true } = {}) {
  if (!unlocked) throw new Error(t("unlock the wallet first"));
  const [status, account] = await Promise.all([rpc("node_status"), rpc("account_get", { address: unlocked.address })]);
  const fee = (await chainParams())?.min_fee ?? 0;
  const sender = unlocked.address === unlocked.keyAddress ? unlocked.publicKey : await publicKeyOf(unlocked.address);
  const unsigned = { body, chain_id: status.chain_id, fee, kind, nonce: account.nonce, sender };
  const raw = await signWith(unsigned, [unlocked]); // `sig` for the account's own key, `sigs` after a rotation
  if (check) {
    const verdict = await rpc("tx_estimate", { tx: toHex(raw) });
    if (!verdict.ok) throw new TxRefused(kind, verdict);
  }
  const result = await deliver(rpc, toHex(raw), await txHash(raw), { notice });
  if (result.status === "failed") throw new RpcError({ code: -32003, message: `${result.receipt?.code}: ${result.receipt?.message}` }, "tx_send");
  return result;
}
