"""Screenshots are taken by tests/web/screenshots.py with a real wait, and the README says so (issue 15.12)."""

from __future__ import annotations

import ast
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parents[1]


def test_the_readme_names_the_screenshot_tool_and_why_a_plain_headless_shot_fails():
    readme = (ROOT / "README.md").read_text()
    assert "take them with `.venv/bin/python tests/web/screenshots.py`" in readme
    assert "chromium --headless --screenshot" in readme and "Loading…" in readme


def test_screenshots_wait_on_a_condition_never_a_sleep():
    tree = ast.parse((HERE / "screenshots.py").read_text())
    sleeps = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "sleep"]
    assert sleeps == []
    calls = [n.args[0].value for n in ast.walk(tree) if isinstance(n, ast.Call) and n.args
             and isinstance(n.args[0], ast.Constant) and getattr(n.func, "attr", "") == "call"]
    assert calls.count("settle") >= 2  # every page, and every wallet page
    driver = (HERE / "driver.mjs").read_text()
    assert "settle:" in driver and "marketnodeRpcInFlight" in driver
    assert "marketnodeRpcInFlight" in (ROOT / "node" / "web" / "static" / "api.js").read_text()


def test_the_chinese_screenshots_are_there_and_the_readme_shows_them():
    tree = ast.parse((HERE / "screenshots.py").read_text())
    chinese = next(ast.literal_eval(n.value) for n in ast.walk(tree) if isinstance(n, ast.Assign)
                   and any(getattr(t, "id", "") == "CHINESE" for t in n.targets))
    assert {"marketplace-home", "listing"} <= set(chinese)  # issue 15: the market home and a listing in Chinese
    readme = (ROOT / "README.md").read_text()
    for name in chinese:
        shot = ROOT / "docs" / "screenshots" / f"{name}-zh-CN-desktop.png"
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000, shot
        assert f"docs/screenshots/{name}-zh-CN-desktop.png" in readme
