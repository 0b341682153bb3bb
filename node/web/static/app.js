// Entry point: register every page group, then route by the URL's hash.

import "./market.js";
import "./explorer.js";
import "./provenance.js";
import "./network.js";
import "./walletui.js";
import "./inbox.js";
import { startNotifications } from "./notify.js";
import { loadAssets, rpc } from "./api.js";
import { start } from "./router.js";
import { onWalletChange, state } from "./wallet.js";

function showWallet({ status }) {
  document.getElementById("wallet-state").textContent = status === "unlocked" ? " (unlocked)" : status === "locked" ? " (locked)" : "";
}
onWalletChange(showWallet);
showWallet(state());
startNotifications();

rpc("node_status").then((status) => {
  document.getElementById("node-line").textContent = `${status.moniker} · ${status.chain_id}`;
}).catch(() => {
  document.getElementById("node-line").textContent = "node not answering";
});

loadAssets().finally(start); // asset decimals first, so every page shows amounts in units
