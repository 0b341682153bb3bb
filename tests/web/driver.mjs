// Drives Debian's Chromium through playwright-core for the Python tests: one JSON command per
// stdin line, one JSON answer per stdout line. Needs NODE_PATH to hold playwright-core.
// Commands: goto, waitText, settle, waitFor, setFiles, fill, click, press, text, eval, viewport, screenshot, errors, close.
import { createInterface } from "node:readline";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");

const profile = mkdtempSync(join(tmpdir(), "marketnode-chromium-"));
// A fresh, empty profile each run (playwright passes it as --user-data-dir).
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
  viewport: { width: 1280, height: 900 },
  locale: "en-US",
  timezoneId: "UTC",
});
const page = context.pages()[0] ?? await context.newPage();
const errors = [];
page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
page.on("console", (message) => { if (message.type() === "error") errors.push(`console: ${message.text()}`); });

const ops = {
  goto: ({ url }) => page.goto(url, { waitUntil: "domcontentloaded" }).then(() => null),
  // Wait until the element's text includes `text` (without reloading: the page must update itself).
  waitText: ({ selector, text, timeout_ms = 20000 }) => page.waitForFunction(
    ([sel, want]) => [...document.querySelectorAll(sel)].some((e) => e.textContent.includes(want)),
    [selector, text], { timeout: timeout_ms, polling: 100 }).then(() => null),
  // Wait until the page is settled: no RPC request on the wire and no "Loading…" for `quiet_polls` polls
  // in a row (names and badges arrive after the page itself). The real wait a screenshot needs.
  settle: ({ quiet_polls = 3, timeout_ms = 20000 }) => page.waitForFunction((need) => {
    const idle = (globalThis.marketnodeRpcInFlight?.() ?? 0) === 0 && !document.querySelector(".loading")
      && document.readyState === "complete";
    globalThis.__quiet = idle ? (globalThis.__quiet ?? 0) + 1 : 0;
    return globalThis.__quiet >= need;
  }, quiet_polls, { timeout: timeout_ms, polling: 100 }).then(() => null),
  waitFor: ({ selector, timeout_ms = 20000 }) => page.waitForSelector(selector, { timeout: timeout_ms }).then(() => null),
  setFiles: ({ selector, path }) => page.setInputFiles(selector, path).then(() => null),
  fill: ({ selector, value }) => page.fill(selector, value).then(() => null),
  click: ({ selector }) => page.click(selector).then(() => null),
  press: ({ selector, key }) => page.press(selector, key).then(() => null),
  text: ({ selector }) => page.textContent(selector),
  eval: ({ expr }) => page.evaluate(expr),
  viewport: ({ width, height }) => page.setViewportSize({ width, height }).then(() => null),
  screenshot: ({ path, full_page = true }) => page.screenshot({ path, fullPage: full_page }).then(() => null),
  errors: () => errors.splice(0),
};

async function close() {
  await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}

const reply = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
reply({ ok: true, value: "ready" });
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const { op, ...args } = JSON.parse(line);
  if (op === "close") break;
  try {
    reply({ ok: true, value: await ops[op](args) });
  } catch (error) {
    reply({ ok: false, error: String(error?.message || error).split("\n").slice(0, 6).join("\n") });
  }
}
await close();
process.exit(0);
