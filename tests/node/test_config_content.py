"""The [content] section: its limits load, and an image limit the RPC body cannot carry is refused at start."""

from __future__ import annotations

import pytest

from marketnode.core.errors import ConfigError
from marketnode.node.config import CONFIG_FILE, load_config


def write(tmp_path, text: str):
    (tmp_path / CONFIG_FILE).write_text(text)
    return load_config(tmp_path)


def test_content_limits_load_from_the_config(tmp_path) -> None:
    cfg = write(tmp_path, "[content]\nmax_text_bytes = 1000\naccount_pending_blobs = 3\n")
    assert cfg.content.max_text_bytes == 1000 and cfg.content.account_pending_blobs == 3
    assert cfg.content.max_image_bytes == 2 * 1024 * 1024


def test_an_image_limit_the_rpc_body_cannot_carry_is_refused_at_its_edge(tmp_path) -> None:
    image = 3 * 1024 * 1024
    needed = 4 * ((image + 2) // 3) + 4096
    write(tmp_path, f"[content]\nmax_image_bytes = {image}\n[rpc]\nmax_body_bytes = {needed}\n")
    with pytest.raises(ConfigError) as refused:
        write(tmp_path, f"[content]\nmax_image_bytes = {image}\n[rpc]\nmax_body_bytes = {needed - 1}\n")
    assert "rpc.max_body_bytes" in str(refused.value) and str(needed) in str(refused.value)


def test_an_unknown_content_setting_is_named(tmp_path) -> None:
    with pytest.raises(ConfigError) as refused:
        write(tmp_path, "[content]\nmax_video_bytes = 1\n")
    assert "max_video_bytes" in str(refused.value)
