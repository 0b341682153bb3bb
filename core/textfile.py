"""Read an operator's text file (config, genesis) so that any damage is a clear ConfigError.

A file with bytes that are not UTF-8, a directory in its place or one the
node may not read must stop the start with the file's name and the fault,
never with a traceback.
"""

from __future__ import annotations

from pathlib import Path

from marketnode.core.errors import ConfigError


def read_text(path: Path, what: str, missing: str = "") -> str:
    """The UTF-8 text of ``path``; ConfigError naming ``what`` and the fault otherwise (``missing`` when absent)."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(missing or f"no {what} at {path}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"the {what} at {path} is damaged: it is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the {what} at {path}: {exc.strerror or exc}") from None
