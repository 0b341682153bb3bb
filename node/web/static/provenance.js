// Provenance pages: a record's timeline of custody and reports, and certificate verification.

import { rpc } from "./api.js";
import { accountLink, badge, el, fields, heading, link, notice, replace, time } from "./format.js";
import { eventDetails } from "./explorer.js";
import { failure, navigate, route } from "./router.js";
import { t } from "./i18n.js";
import { recordEvent, role as roleLabel } from "./labels.js";

function historyEntry(entry) {
  const { seq, event, by, time_ms: timeMs, ...details } = entry;
  return el("li", { class: "done", dataset: { seq } }, el("span", { class: "dot", "aria-hidden": "true" }),
    el("strong", {}, recordEvent(event)), " ", time(timeMs), " · ", t("by"), " ", accountLink(by),
    Object.keys(details).length ? eventDetails(details) : null);
}

function certificateLinks(certs) {
  if (!certs?.length) return t("none");
  return certs.map((c) => link(`#/cert/${c.id ?? c}`, badge(t("certificate #{id}", { id: c.id ?? c }), "ok")));
}

async function recordPage(page) {
  const id = page.params.id;
  const record = await rpc("record_get", { record: id });
  if (!page.current) return;
  const history = el("section", { "aria-labelledby": "history-title" }, el("h2", { id: "history-title" }, t("Provenance timeline")));
  const attributes = Object.entries(record.attributes || {});
  replace(page.main,
    el("p", { class: "crumbs" }, link("#/cert", t("Provenance")), " › ", t("record")),
    heading(t("Record {id}", { id }), " ", record.final ? badge(t("finalized"), "ok") : badge(t("not finalized"))),
    fields([
      [t("Type"), record.type],
      [t("Producer"), accountLink(record.producer)],
      [t("Owner"), accountLink(record.owner)],
      [t("Custodian"), accountLink(record.custodian)],
      [t("Reporters"), (record.reporters || []).length ? record.reporters.map((r) => [accountLink(r), " "]) : t("none")],
      [t("Certificates"), certificateLinks(record.certificates)],
      [t("Created"), time(record.created_ms)],
      (record.proposals || []).length ? [t("Open proposals"), record.proposals.map((p) => el("div", {}, roleLabel(p.role), " → ", accountLink(p.receiver)))] : null,
    ]),
    attributes.length ? el("section", { "aria-labelledby": "attr-title" }, el("h2", { id: "attr-title" }, t("Attributes")),
      fields(attributes.map(([k, v]) => [k, String(v)]))) : null,
    history);
  try {
    const answer = await rpc("record_history", { record: id, limit: 200 });
    const items = answer.items ?? [];
    history.append(items.length ? el("ol", { class: "timeline", id: "record-timeline" }, items.map(historyEntry)) : notice(t("No history yet.")),
      answer.next_cursor ? notice(t("Older entries follow; only the first 200 are shown.")) : "");
  } catch (error) {
    history.append(failure(error));
  }
}

function certificateCard(cert) {
  return el("li", { class: `card verdict ${cert.valid ? "ok" : "bad"}` },
    el("h3", {}, t("Certificate #{id}", { id: cert.id }), " ", cert.valid ? badge(t("✓ valid"), "ok") : badge(cert.revoked ? "✗ revoked" : t("✗ issuer not accredited"), "warn")),
    fields([
      [t("Issuer (certifier)"), [accountLink(cert.issuer), " ", cert.issuer_accredited ? badge(t("accredited"), "ok") : badge(t("not accredited"), "warn")]],
      [t("Owner"), accountLink(cert.owner)],
      [t("Record"), cert.record ? link(`#/record/${encodeURIComponent(cert.record)}`, cert.record) : t("none")],
      [t("Issued"), time(cert.issued_ms)],
      cert.revoked ? [t("Revoked"), cert.revoke_reason || t("yes")] : null,
      (cert.ownership_chain || []).length ? [t("Ownership"), el("ol", { class: "plain" }, cert.ownership_chain.map((e) => el("li", {},
        e.from ? [accountLink(e.from), " → "] : [t("issued to"), " "], accountLink(e.to), " · ", time(e.time_ms))))] : null,
    ]));
}

async function certPage(page) {
  const ref = page.params.ref || "";
  const form = el("form", { class: "inline-form", "aria-label": t("Verify a certificate") },
    el("label", { for: "cert-q" }, t("Certificate number or item fingerprint (sha256, 64 hex characters):")),
    el("input", { id: "cert-q", name: "q", value: ref, autocomplete: "off", spellcheck: "false" }),
    el("button", { type: "submit", class: "primary" }, t("Verify")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    navigate(`#/cert/${encodeURIComponent(form.elements.q.value.trim().toLowerCase())}`);
  });
  const result = el("div", { "aria-live": "polite", id: "cert-result" });
  replace(page.main, heading(t("Verify a certificate")),
    el("p", {}, t("A certifier signs an item's fingerprint on chain. Enter the certificate number, or the fingerprint of the item (e.g. the sha256 of its reference image), to see who certified it, who owns it and whether it was revoked.")),
    form, result);
  if (!ref) return;
  if (!/^\d+$/.test(ref) && !/^[0-9a-f]{64}$/.test(ref)) {
    replace(result, notice(t("Enter a certificate number or a fingerprint of 64 hex characters."), "warn"));
    return;
  }
  try {
    const answer = await rpc("cert_verify", /^\d+$/.test(ref) ? { certificate: Number(ref) } : { fingerprint: ref });
    if (!page.current) return;
    replace(result,
      el("section", { class: `verdict ${answer.valid ? "ok" : "bad"}`, role: "status" },
        el("h2", {}, answer.valid ? t("✓ This item holds a valid certificate") : t("✗ No valid certificate for this item")),
        el("p", {}, t("Fingerprint"), " ", el("code", { class: "wrap" }, answer.fingerprint))),
      answer.certificates.length ? el("ul", { class: "plain cert-list" }, answer.certificates.map(certificateCard)) : notice(t("Nobody has certified this fingerprint.")));
  } catch (error) {
    if (page.current) replace(result, failure(error));
  }
}

route("/record/:id", recordPage);
route("/cert", certPage);
route("/cert/:ref", certPage);
