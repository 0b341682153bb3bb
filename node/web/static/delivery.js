// Getting one signed tx committed, for the web wallet: the rules of wallet/delivery.py (docs/WALLET.md).
// A busy or rate-limited node is asked again after the wait it names (data.retry_after_ms); a tx the
// node no longer knows (killed before it spread) is sent again — the same signed tx, so it commits at
// most once; a receipt, a definite refusal or the deadline ends it. `rpc`, `now` and `sleep` are passed
// in, so this runs (and is tested) without a browser or a node.

import { locale, t } from "./i18n.js";

const LIMIT_EXCEEDED = -32005;
const TEMPORARY = ["busy", "rate", "full", "sender_cap"];
const FINAL = ["committed", "failed"];
const DEFAULT_RETRY_MS = 500;

// The wait a temporary refusal asks for, in ms; null when the refusal is definite.
export function retryAfterMs(error) {
  const data = error && typeof error.data === "object" && error.data !== null ? error.data : {};
  if (error?.code !== LIMIT_EXCEEDED || (!TEMPORARY.includes(data.code) && !("retry_after_ms" in data))) return null;
  const hint = Number(data.retry_after_ms);
  return Number.isInteger(hint) && hint > 0 ? hint : DEFAULT_RETRY_MS;
}

export async function deliver(rpc, txHex, txHash, {
  totalMs = 60_000, pollMs = 500, maxHintMs = 10_000, now = Date.now,
  sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)), notice = () => {},
} = {}) {
  const end = now() + totalMs;
  const pause = async (ms) => {
    const wait = Math.min(ms, maxHintMs);
    if (end - now() <= wait) return false;
    await sleep(wait);
    return true;
  };
  const get = () => rpc("tx_get", { hash: txHash, proof: false });
  for (;;) {
    let status;
    try {
      const waitS = Math.max(1, Math.min(25, Math.floor((end - now()) / 1000)));
      status = await rpc("tx_send", { tx: txHex, wait: "commit", timeout_s: waitS });
    } catch (error) {
      const hint = retryAfterMs(error);
      if (hint !== null) {
        notice(t("The node is busy; sending again in {s} s", { s: (hint / 1000).toLocaleString(locale(), { minimumFractionDigits: 1, maximumFractionDigits: 1 }) }));
        if (!(await pause(hint))) throw error;
        continue;
      }
      const reason = error?.data?.code;
      if (reason !== "duplicate" && reason !== "stale_nonce") throw error;
      status = await get(); // the node has it, or the nonce is used: by this tx, or by another
      if (!FINAL.includes(status.status) && reason === "stale_nonce") throw error;
    }
    while (!FINAL.includes(status.status) && status.status !== "unknown") {
      if (!(await pause(pollMs))) return { ...status, timed_out: true };
      status = await get();
    }
    if (FINAL.includes(status.status)) return status;
    // "unknown": the node lost the tx after acknowledging it; send it again.
  }
}
