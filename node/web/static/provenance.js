// Provenance pages: a record's timeline of custody and reports, and certificate verification.

import { rpc } from "./api.js";
import { accountLink, badge, el, fields, heading, link, notice, replace, time } from "./format.js";
import { eventDetails } from "./explorer.js";
import { failure, route } from "./router.js";

function historyEntry(entry) {
  const { kind, type, event, time_ms, timestamp_ms, height, tx, tx_hash, ...rest } = entry;
  const attrs = rest.attrs ?? rest;
  const what = kind ?? type ?? event ?? "event";
  return el("li", { class: "done" }, el("span", { class: "dot", "aria-hidden": "true" }),
    el("strong", {}, String(what).replace(/^record_/, "").replaceAll("_", " ")), " ",
    time(time_ms ?? timestamp_ms),
    height ? [" · ", link(`#/block/${height}`, `block #${height}`)] : null,
    (tx ?? tx_hash) ? [" · ", link(`#/tx/${tx ?? tx_hash}`, "tx")] : null,
    eventDetails(attrs));
}

async function recordPage(page) {
  const id = page.params.id;
  const record = await rpc("record_get", { id });
  if (!page.current) return;
  const history = el("section", { "aria-labelledby": "history-title" }, el("h2", { id: "history-title" }, "Provenance timeline"));
  replace(page.main,
    el("p", { class: "crumbs" }, link("#/cert", "Provenance"), " › record"),
    heading(`Record ${id} `, record.finalized ? badge("finalized", "ok") : badge("open", "")),
    fields([
      ["Type", record.type],
      ["Owner", accountLink(record.owner)],
      ["Custodian", accountLink(record.custodian)],
      ["Reporters", (record.reporters || []).length ? record.reporters.map((r) => accountLink(r)) : "none"],
      ["Created", time(record.created_ms)],
    ]),
    Object.keys(record.attributes || {}).length ? el("section", { "aria-labelledby": "attr-title" }, el("h2", { id: "attr-title" }, "Attributes"), fields(Object.entries(record.attributes).map(([k, v]) => [k, String(v)]))) : null,
    history);
  try {
    const answer = await rpc("record_history", { id, limit: 100 });
    const items = answer.items ?? answer;
    history.append(items.length ? el("ol", { class: "timeline" }, items.map(historyEntry)) : notice("No history yet."));
  } catch (error) {
    history.append(failure(error));
  }
}

function certificateResult(result) {
  const cert = result.certificate ?? result;
  const valid = result.valid ?? (cert.status === "valid" || (cert.revoked === false));
  return el("section", { "aria-labelledby": "cert-result", class: `verdict ${valid ? "ok" : "bad"}`, role: "status" },
    el("h2", { id: "cert-result" }, valid ? "✓ Valid certificate" : `✗ Not valid${cert.revoked ? ": revoked" : ""}`),
    fields([
      ["Certificate", cert.id ? `#${cert.id}` : "—"],
      ["Fingerprint", el("code", { class: "wrap" }, cert.fingerprint ?? "—")],
      ["Issuer (certifier)", accountLink(cert.issuer)],
      ["Owner", accountLink(cert.owner)],
      ["Record", cert.record ? link(`#/record/${encodeURIComponent(cert.record)}`, cert.record) : "none"],
      ["Issued", time(cert.issued_ms ?? cert.created_ms)],
      cert.revoked ? ["Revoked", [time(cert.revoked_ms), cert.reason ? ` — ${cert.reason}` : ""]] : null,
    ]));
}

async function certPage(page) {
  const ref = page.params.ref || "";
  const form = el("form", { class: "inline-form", "aria-label": "Verify a certificate" },
    el("label", { for: "cert-q" }, "Certificate id or item fingerprint (sha256 hex):"),
    el("input", { id: "cert-q", name: "q", value: ref, autocomplete: "off", spellcheck: "false" }),
    el("button", { type: "submit", class: "primary" }, "Verify"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `#/cert/${encodeURIComponent(form.elements.q.value.trim().toLowerCase())}`;
  });
  const result = el("div", { "aria-live": "polite" });
  replace(page.main, heading("Verify a certificate"),
    el("p", {}, "A certifier signs an item's fingerprint on chain. Enter the certificate number, or the fingerprint of the item (e.g. the sha256 of its reference image), to see who certified it, who owns it and whether it was revoked."),
    form, result);
  if (!ref) return;
  const params = /^\d+$/.test(ref) ? { id: Number(ref) } : { fingerprint: ref };
  try {
    const answer = await rpc("cert_verify", params);
    if (page.current) replace(result, certificateResult(answer));
  } catch (error) {
    if (page.current) replace(result, failure(error));
  }
}

route("/record/:id", recordPage);
route("/cert", certPage);
route("/cert/:ref", certPage);
