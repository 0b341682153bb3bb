"""Headless Chromium for the web tests: installs it (setup_browser.sh), then drives it via driver.mjs.

``Browser`` sends one JSON command per line to the Node.js driver and reads one answer per line;
a failed command raises ``BrowserError`` with the driver's message.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
SETUP = HERE / "setup_browser.sh"
DRIVER = HERE / "driver.mjs"
UNAVAILABLE_CODES = {3: "Chromium cannot be installed on this machine", 4: "Node.js/npm or playwright-core is missing"}


class BrowserError(AssertionError):
    pass


class BrowserUnavailable(RuntimeError):
    pass


def install() -> Path:
    """Run setup_browser.sh (idempotent) and return the node_modules holding playwright-core."""
    if shutil.which("node") is None:
        raise BrowserUnavailable("Node.js is not installed (needed to drive Chromium with playwright-core)")
    done = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, timeout=900)
    if done.returncode in UNAVAILABLE_CODES:
        raise BrowserUnavailable(f"{UNAVAILABLE_CODES[done.returncode]}: {done.stderr.strip()}")
    if done.returncode != 0:
        raise RuntimeError(f"setup_browser.sh failed ({done.returncode}): {done.stderr.strip()}")
    return Path(done.stdout.strip().splitlines()[-1])


class Browser:
    """One headless Chromium page; ``with Browser(node_modules) as b: b.goto(url)``."""

    def __init__(self, node_modules: Path) -> None:
        env = dict(os.environ, NODE_PATH=str(node_modules))
        self.proc = subprocess.Popen(["node", str(DRIVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=env, cwd=HERE)
        self._read()  # "ready"

    def _read(self) -> Any:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise BrowserError(f"the browser driver exited ({self.proc.poll()})")
        answer = json.loads(line)
        if not answer["ok"]:
            raise BrowserError(answer["error"])
        return answer.get("value")

    def call(self, op: str, **args: Any) -> Any:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.proc.stdin.flush()
        try:
            return self._read()
        except BrowserError as exc:
            if op not in ("waitFor", "waitText"):
                raise
            raise BrowserError(f"{exc}\n{self.describe()}") from None

    def describe(self) -> str:
        """What the page shows and what went wrong in it, for a failure message."""
        try:
            where = self.call("eval", expr="location.href")
            shown = self.call("eval", expr="document.getElementById('main')?.innerText.slice(0, 600)")
            return f"page {where} shows: {shown!r}; page errors: {self.call('errors')}"
        except BrowserError as exc:
            return f"(page not readable: {exc})"

    def goto(self, url: str) -> None:
        self.call("goto", url=url)

    def wait_text(self, selector: str, text: str, timeout_ms: int = 20000) -> None:
        self.call("waitText", selector=selector, text=text, timeout_ms=timeout_ms)

    def text(self, selector: str) -> str:
        return self.call("text", selector=selector) or ""

    def screenshot(self, path: Path, full_page: bool = True) -> None:
        self.call("screenshot", path=str(path), full_page=full_page)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.call_nowait("close")
                self.proc.wait(20)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(5)

    def call_nowait(self, op: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op}) + "\n")
        self.proc.stdin.flush()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def import_key(browser: Browser, url: str, seed_hex: str, passphrase: str) -> None:
    """Open a fresh wallet page on ``url``, import the seed and wait until it is unlocked.

    The unlocked key lives in that page's memory: later pages must be reached by changing
    ``location.hash`` in the same document, not with ``goto`` (which would load a new one).
    """
    browser.goto(f"{url}?wallet=clear#/wallet")
    browser.call("eval", expr="localStorage.clear()")
    browser.goto(f"{url}?wallet=import#/wallet")
    browser.call("fill", selector="#import-seed", value=seed_hex)
    browser.call("fill", selector="#import-pass", value=passphrase)
    browser.call("click", selector="#wallet-import button[type=submit]")
    browser.call("waitFor", selector='#main[data-wallet="unlocked"]')
