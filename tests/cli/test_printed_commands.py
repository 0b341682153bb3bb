"""Every marketnode command that the docs, the README, the web pages or a command's --help print parses.

A printed command that the CLI then rejects (``order place --listing 3`` where LISTING is positional) is
the first thing a new user copies. Placeholders a person is meant to replace (``mn1...``, ``DIR``, a JS
``${id}``) are filled with values of the right shape; synopsis lines (``a|b``, ``[--opt]``) are skipped.
"""

from __future__ import annotations

import itertools
import re
import shlex
import warnings
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from marketnode.cli.main import main

ROOT = Path(__file__).parents[2]
ADDRESS = "mn1" + "a" * 58
PLACEHOLDERS = {
    "mn1...": ADDRESS, "5f2c...": "5f2c" + "0" * 60, "DIR": "testnet", "HOME": "home", "HASH": "ab" * 32,
    "NAME": "Alice", "TO": ADDRESS, "AMOUNT": "1", "ASSET": "MKT", "ADDRESS": ADDRESS, "THAT_DIR": "t1",
    "NEW_DIR": "t2", "PORT": "26700", "MODE": "tps", "…": "x", "FILE": "keyfile.json",
}
COMMAND = re.compile(r"(?:\.venv/bin/)?marketnode\s+[a-z][^`\n]*")


def _fill(text: str) -> str:
    text = re.sub(r"\$\{[^}]*\}", "3", text)  # a JS template's value: an id
    text = re.sub(r"\{[^}]*\}", "x", text)
    return text


def _command_lines(text: str) -> Iterator[str]:
    text = re.sub(r"\\\n\s*", " ", text)  # shell line continuations
    text = text.replace("$(cat node_key)", "00" * 32)
    for match in COMMAND.finditer(text):
        line = match.group(0).split("  #")[0].split(" # ")[0]
        line = re.split(r"\s(?:&&|\|\||;|\|)\s", line)[0]  # a shell list: the next command is matched on its own
        yield line.strip().rstrip(".,;:)")


def _printed() -> Iterator[tuple[str, str]]:
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text()
        spans = re.findall(r"```(?:sh|bash|console|shell)?\n(.*?)```", text, re.S) + re.findall(r"`([^`\n]+)`", text)
        for span in spans:
            for line in _command_lines(span):
                yield f"{path.relative_to(ROOT)}", line
    for path in sorted((ROOT / "node" / "web" / "static").glob("*.js")):
        for literal in re.findall(r"`([^`]*)`|\"([^\"\n]*)\"", path.read_text()):
            literal = "".join(literal)
            if literal.startswith("marketnode "):  # a command the page shows (prose mentioning the name is not)
                yield f"{path.relative_to(ROOT)}", _fill(literal)
    for path, command in _all_commands(main, ()):
        for line in _command_lines(command.help or ""):
            yield f"marketnode {' '.join(path)} --help", line


def _all_commands(group: click.Group, prefix: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _all_commands(command, (*prefix, name))


def _is_synopsis(words: list[str]) -> bool:
    return any("|" in w or w.startswith("[") or w in ("...", "…") or w.endswith("/") for w in words)


def parse(line: str) -> None:
    """Parse ``line`` as the CLI would, without running it: raises click.UsageError when it would not."""
    words = [PLACEHOLDERS.get(w, w) for w in shlex.split(line.split(" > ")[0])][1:]  # after "marketnode"
    for flag, value in itertools.pairwise(["", *words]):
        if flag in ("--file", "--from-key-file") or (not flag.startswith("--") and value.endswith((".json", ".key"))):
            Path(value).parent.mkdir(parents=True, exist_ok=True)  # an example file the reader has: give it one
            Path(value).write_text("00" * 32)
    command: click.Command = main
    rest = list(words)
    ctx = None
    while True:
        try:
            ctx = command.make_context(command.name or "marketnode", rest, parent=ctx, resilient_parsing=False)
        except click.MissingParameter:
            if rest:  # only a bare command name ("see `marketnode run`") may leave its required options out
                raise
            return
        except click.exceptions.NoArgsIsHelpError:
            return  # a bare group name
        with warnings.catch_warnings():  # click 8.2 deprecates protected_args; 8.1 needs it
            warnings.simplefilter("ignore", DeprecationWarning)
            remaining = [*ctx.protected_args, *ctx.args]
        if not isinstance(command, click.Group) or not remaining:
            return
        name, sub, rest = command.resolve_command(ctx, remaining)
        assert sub is not None, f"no command {name!r}"
        command = sub


def cases() -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for where, line in _printed():
        words = line.split()
        if len(words) < 2 or _is_synopsis(words) or "MARKETNODE" in line:
            continue
        seen.setdefault(line, where)
    return sorted((where, line) for line, where in seen.items())


def test_the_docs_and_pages_print_many_commands():
    found = cases()
    assert len(found) > 60
    assert any(where.startswith("node/web/static") for where, _ in found)
    assert any(where.endswith("--help") for where, _ in found)


@pytest.mark.parametrize(("where", "line"), cases())
def test_every_printed_command_parses(where, line, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        parse(line)
    except click.exceptions.Exit:
        pass  # --help, --version
    except click.UsageError as exc:
        pytest.fail(f"{where} prints `{line}`, which the CLI rejects: {exc.format_message()}")
