// Entry point: register every page group, then route by the URL's hash.

import "./market.js";
import "./explorer.js";
import "./provenance.js";
import "./network.js";
import "./walletui.js";
import "./inbox.js";
import "./myorders.js";
import "./keys.js";
import { startNotifications } from "./notify.js";
import { loadAssets, rpc } from "./api.js";
import { el } from "./format.js";
import { LANGUAGES, locale, setLocale, t } from "./i18n.js";
import { start } from "./router.js";
import { onWalletChange, state } from "./wallet.js";

// The page's own words (index.html marks them data-i18n) in the chosen language, and the switch between them.
document.documentElement.lang = locale();
for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.textContent);
for (const node of document.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", t(node.getAttribute("aria-label")));
const switcher = el("select", { id: "lang", "aria-label": "Language / 语言" },
  LANGUAGES.map(([code, name]) => el("option", { value: code, selected: code === locale() }, name)));
switcher.addEventListener("change", () => { setLocale(switcher.value); location.reload(); });
document.getElementById("lang-switch").append(switcher);

function showWallet({ status }) {
  document.getElementById("wallet-state").textContent = status === "unlocked" ? ` (${t("unlocked")})` : status === "locked" ? ` (${t("locked")})` : "";
}
onWalletChange(showWallet);
showWallet(state());
startNotifications();

rpc("node_status").then((status) => {
  document.getElementById("node-line").textContent = `${status.moniker} · ${status.chain_id}`;
}).catch(() => {
  document.getElementById("node-line").textContent = t("node not answering");
});

loadAssets().finally(start); // asset decimals first, so every page shows amounts in units
