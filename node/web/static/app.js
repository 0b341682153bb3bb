// Entry point: register every page group, then route by the URL's hash.

import "./market.js";
import "./explorer.js";
import "./provenance.js";
import "./network.js";
import { rpc } from "./api.js";
import { start } from "./router.js";

rpc("node_status").then((status) => {
  document.getElementById("node-line").textContent = `${status.moniker} · ${status.chain_id}`;
}).catch(() => {
  document.getElementById("node-line").textContent = "node not answering";
});

start();
