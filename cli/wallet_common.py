"""What every wallet and marketplace command shares: --rpc, --json, the signing key, output, errors.

A command declares ``@node_command(group, "name", signs=True)`` and receives a
``Session`` first: the node client, the wallet (key loaded on first use),
asset decimals, and ``send``/``show`` that print either a readable line or
JSON. Errors from the node or a market rule become one line on stderr (or a
JSON error object) and exit status 1; bad input is a usage error (status 2).
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from marketnode.core.errors import MarketnodeError, RpcError, ValidationError
from marketnode.core.keys import PrivateKey, pubkey_from_address
from marketnode.wallet.account import TxFailedError, TxRefusedError, TxResult, Wallet
from marketnode.wallet.amounts import AssetBook
from marketnode.wallet.client import DEFAULT_URL, NodeUnreachableError, RpcClient
from marketnode.wallet.keystore import keystore_address, passphrase_from_env, read_keystore, unseal
from marketnode.wallet.proof import InclusionProofError

RPC_ENV = "MARKETNODE_RPC"
KEYSTORE_ENV = "MARKETNODE_KEYSTORE"
KEY_FILE_ENV = "MARKETNODE_KEY_FILE"
ACCOUNT_ENV = "MARKETNODE_ACCOUNT"
DEFAULT_KEYSTORE = Path("~/.marketnode/keystore.json")
CLIENT_TIMEOUT_S = 75.0


LOCAL_TESTNET = Path("testnet")  # where the README's `marketnode testnet up --dir testnet` puts it
UNREACHABLE_HINT = (
    "to try: start a local testnet with `marketnode testnet up --dir testnet` (run from this directory, commands "
    "find it; elsewhere use the `export MARKETNODE_RPC=...` line it prints), or give a running node's URL with "
    f"--rpc URL or ${RPC_ENV} (`marketnode testnet status --dir DIR` lists a testnet's URLs)")


def default_rpc() -> str:
    """The node a command talks to when neither --rpc nor $MARKETNODE_RPC says: the first node of the
    testnet in ./testnet when there is one, else a node on the standard RPC port."""
    try:
        return str(json.loads((LOCAL_TESTNET / "testnet.json").read_text())["nodes"][0]["rpc"])
    except (OSError, ValueError, LookupError, TypeError):
        return DEFAULT_URL


def default_keystore() -> Path:
    return Path(os.environ.get(KEYSTORE_ENV) or DEFAULT_KEYSTORE).expanduser()


class Session:
    """One command's view of the node and of the key it signs with."""

    def __init__(self, rpc: str, as_json: bool, keystore: Path | None = None, key_file: Path | None = None,
                 fee: str | None = None, wait: bool = True, dry_run: bool = False, check: bool = True,
                 account: str | None = None, cosign: Sequence[Path] = ()) -> None:
        self.rpc = rpc
        self.account = account  # act for this address (a rotated account), not the signing key's own
        self.cosign = tuple(cosign)  # further key files of a multi-key account: each signs too
        self.as_json = as_json
        self.keystore = keystore
        self.key_file = key_file
        self.fee = fee
        self.wait = wait
        self.dry_run = dry_run
        self.check = check
        self.client = RpcClient(rpc, timeout_s=CLIENT_TIMEOUT_S)
        self._wallet: Wallet | None = None
        self._assets: AssetBook | None = None

    # -- lazily built pieces -------------------------------------------------------------

    @property
    def wallet(self) -> Wallet:
        if self._wallet is None:
            fee = self.assets.parse(self.fee, self.native_asset, "fee") if self.fee is not None else None
            self._wallet = Wallet(load_signing_key(self.keystore, self.key_file), self.client, fee=fee,
                                  notice=lambda text: click.echo(text, err=True),
                                  account=None if self.account is None else pubkey_from_address(self.account),
                                  cosigners=[load_key_file(path) for path in self.cosign])
        return self._wallet

    @property
    def assets(self) -> AssetBook:
        if self._assets is None:
            self._assets = AssetBook.from_node(self.client)
        return self._assets

    @property
    def native_asset(self) -> str:
        """The asset fees are paid in (the genesis' ``params.native_asset``)."""
        genesis = self.call("chain_getGenesis")["genesis"]
        return str(genesis.get("params", {}).get("native_asset") or "MKT")

    def call(self, method: str, **params: Any) -> Any:
        return self.client.call(method, **{k: v for k, v in params.items() if v is not None})

    def amount(self, amount: int | None, asset: str) -> str:
        return "-" if amount is None else self.assets.format(amount, asset)

    # -- output ---------------------------------------------------------------------------

    def show(self, data: Any, human: Callable[[], None]) -> None:
        """Print ``data`` as JSON with --json, else run ``human`` to print it for people."""
        if self.as_json:
            click.echo(json.dumps(data, indent=2, sort_keys=True))
        else:
            human()

    def send(self, kind: str, body: Mapping[str, Any], done: Callable[[TxResult], str] | None = None,
             extra: Mapping[str, Any] | None = None, signers: Sequence[PrivateKey] = ()) -> TxResult | None:
        """Check, sign, submit and (unless --no-wait) wait for the receipt; print the outcome.

        ``done`` words the success for people; ``extra`` is added to the JSON output.
        First the node tries the tx on its current state (tx_estimate) and a market rule's refusal
        stops it before it is sent, fee unpaid (unless --no-check).
        With --dry-run, only that check runs and nothing is sent. ``signers``: keys that sign besides
        the wallet's (the new keys of a rotation).
        """
        if self.dry_run:
            self._estimate(kind, body, signers)
            return None
        result = self.wallet.send(kind, body, wait="commit" if self.wait else "none", check=self.check,
                                  extra=signers)
        data = {**tx_result_json(result), **(extra or {})}
        line = f"{kind}: {result.status}  tx {result.hash}" + (f"  block {result.height}" if result.height else "")
        if result.status == "pending":  # --no-wait: an acknowledgement, not a receipt
            line += "\n" + ("journaled by the node (survives its restart)" if result.durable else "not durable")
            line += "; not final until committed: check with `marketnode tx show HASH`"
        if result.ok and done is not None:
            line += "\n" + done(result)
        self.show(data, lambda: click.echo(line))
        return result


    def _estimate(self, kind: str, body: Mapping[str, Any], signers: Sequence[PrivateKey] = ()) -> None:
        verdict = self.wallet.estimate(kind, body, signers)
        if not verdict.get("ok"):
            _fail(self.as_json, f"{kind} would fail: {verdict.get('code')}: {verdict.get('message')}",
                  {"code": verdict.get("code")}, "nothing was sent (--dry-run)")
        self.show(verdict, lambda: click.echo(f"{kind}: would pass now (nothing was sent: --dry-run)"))


def tx_result_json(result: TxResult) -> dict[str, Any]:
    return {"hash": result.hash, "kind": result.kind, "status": result.status, "height": result.height,
            "code": result.code, "message": result.message, "events": result.events, "durable": result.durable}


def own_address(keystore: Path | None, key_file: Path | None) -> str:
    """Your address, from --key-file (or $MARKETNODE_KEY_FILE) or the keystore, without asking a passphrase."""
    key_file = key_file or (Path(os.environ[KEY_FILE_ENV]) if os.environ.get(KEY_FILE_ENV) else None)
    if key_file is not None:
        return PrivateKey.load(key_file).address
    return keystore_address(keystore or default_keystore())


def load_key_file(path: Path) -> PrivateKey:
    """A plain hex seed file, or a usage error naming the file (not a traceback)."""
    try:
        return PrivateKey.load(path)
    except (OSError, ValueError, MarketnodeError) as exc:
        raise click.BadParameter(f"cannot read a key: {exc}") from None


def load_signing_key(keystore: Path | None, key_file: Path | None) -> PrivateKey:
    """The key from a plain hex seed file (--key-file) or the encrypted keystore (passphrase prompted)."""
    key_file = key_file or (Path(os.environ[KEY_FILE_ENV]) if os.environ.get(KEY_FILE_ENV) else None)
    if key_file is not None:
        return PrivateKey.load(key_file)
    path = keystore or default_keystore()
    doc = read_keystore(path)  # a missing file is reported before any passphrase is asked for
    passphrase = passphrase_from_env()
    if passphrase is None:
        passphrase = click.prompt(f"passphrase for {doc['address']} ({path})", hide_input=True)
    return unseal(doc, passphrase)


# --- decorators ---------------------------------------------------------------------------------

RPC_OPTION = click.option("--rpc", envvar=RPC_ENV, default=None, metavar="URL",
                          help=f"The node's JSON-RPC URL (env {RPC_ENV}; default: the first node of the testnet in "
                               f"./testnet if there is one, else {DEFAULT_URL}).")
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
SIGNER_OPTIONS = (
    click.option("--keystore", type=click.Path(dir_okay=False, path_type=Path), default=None,
                 help=f"Encrypted keystore to sign with (default: ${KEYSTORE_ENV} or {DEFAULT_KEYSTORE})."),
    click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                 help=f"Plain hex seed file instead, e.g. a testnet's accounts/alice.key (env {KEY_FILE_ENV})."),
    click.option("--fee", default=None, metavar="AMOUNT",
                 help="Tx fee in units of the native asset, MKT (default: the chain's minimum)."),
    click.option("--wait/--no-wait", default=True, show_default=True, help="Wait until the tx is in a block."),
    click.option("--dry-run", is_flag=True, help="Only ask the node whether the tx would pass now (tx_estimate)."),
    click.option("--check/--no-check", default=True, show_default=True,
                 help="Try the tx on the node's current state first and send nothing if a market rule refuses it."),
    click.option("--account", envvar=ACCOUNT_ENV, default=None, metavar="ADDRESS",
                 help=f"Act for this address when the key is not its own (a rotated account; env {ACCOUNT_ENV})."),
    click.option("--cosign", type=click.Path(dir_okay=False, path_type=Path), multiple=True,
                 metavar="KEY_FILE", help="Another key of a multi-key account that signs too (repeat for more)."),
)
SIGNER_PARAMS = ("keystore", "key_file", "fee", "wait", "dry_run", "check", "account", "cosign")


def node_command(group: click.Group | None, name: str, signs: bool = False, **settings: Any) -> Callable:
    """Make ``fn(session, **args)`` the command ``name`` (in ``group``, if given) with the shared
    options (--rpc, --json; with ``signs`` also --keystore, --key-file, --fee, --wait) and error handling."""

    def decorate(fn: Callable[..., None]) -> click.Command:
        @functools.wraps(fn)
        def command(rpc: str | None, as_json: bool, **args: Any) -> None:
            signer = {name: args.pop(name) for name in SIGNER_PARAMS} if signs else {}
            session = Session(rpc or default_rpc(), as_json, **signer)
            with reported_errors(as_json):
                fn(session, **args)

        options = [RPC_OPTION, JSON_OPTION, *(SIGNER_OPTIONS if signs else ())]
        for option in reversed(options):
            command = option(command)
        made = (group.command if group is not None else click.command)(name, **settings)(command)
        shared = len(options)  # the outermost decorators come first: list the command's own options first
        made.params = made.params[shared:] + made.params[:shared]
        return made

    return decorate


@contextmanager
def reported_errors(as_json: bool) -> Iterator[None]:
    """Turn the node's and the market's refusals into a message and exit status 1."""
    try:
        yield
    except TxRefusedError as exc:
        _fail(as_json, str(exc), {"code": exc.code, "sent": False},
              "nothing was sent and no fee was paid (the node's current state refuses it; --no-check sends anyway)")
    except TxFailedError as exc:
        _fail(as_json, str(exc), {"code": exc.code, "tx": tx_result_json(exc.result)},
              f"tx {exc.result.hash} (the fee was paid; nothing else changed)")
    except RpcError as exc:
        code = exc.data.get("code") if isinstance(exc.data, dict) else None
        _fail(as_json, exc.message + (f" [{code}]" if code else ""), {"rpc_code": exc.code, "data": exc.data})
    except InclusionProofError as exc:
        _fail(as_json, f"the proof does not hold: {exc}", {})
    except ValidationError as exc:
        raise click.UsageError(str(exc)) from None
    except NodeUnreachableError as exc:
        _fail(as_json, str(exc), {"hint": UNREACHABLE_HINT}, UNREACHABLE_HINT)
    except MarketnodeError as exc:
        _fail(as_json, str(exc), {})


def _fail(as_json: bool, message: str, details: dict[str, Any], hint: str = "") -> None:
    if as_json:
        click.echo(json.dumps({"error": {"message": message, **details}}, indent=2))
    else:
        click.echo(f"error: {message}", err=True)
        if hint:
            click.echo(hint, err=True)
    sys.exit(1)


# --- values for people ---------------------------------------------------------------------------

DAY_MS = 24 * 60 * 60 * 1000


def when(ms: int | None) -> str:
    """Block time in ms as a UTC timestamp for tables; beyond year 9999 (a u64 allows it) the exact number."""
    if not ms:
        return "-"
    try:
        moment = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(milliseconds=ms)
    except OverflowError:
        return f"{ms} ms after 1970"
    return moment.strftime("%Y-%m-%d %H:%M:%SZ")


def head_time_ms(session: Session) -> int:
    """The chain's time (the head block's agreed timestamp), for deadlines set in days."""
    return int(session.call("node_status")["head_time_ms"])


def stars(avg_x100: int | None, count: int | None) -> str:
    """An average rating kept as an integer times 100, for people: ``4.50/5 (2)``."""
    if not count:
        return "no ratings"
    return f"{(avg_x100 or 0) // 100}.{(avg_x100 or 0) % 100:02d}/5 ({count})"


# --- tables ---------------------------------------------------------------------------------------

Column = tuple[str, Callable[[Mapping[str, Any]], Any]]


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], empty: str = "(none)") -> None:
    """Print rows as aligned columns under a header; numbers right-aligned."""
    if not rows:
        click.echo(empty)
        return
    cells = [[_cell(get(row)) for _, get in columns] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, (h, _) in enumerate(columns)]
    numeric = [all(_is_number(r[i]) for r in cells) for i in range(len(columns))]
    click.echo("  ".join(h.rjust(w) if n else h.ljust(w) for (h, _), w, n in zip(columns, widths, numeric)).rstrip())
    for r in cells:
        click.echo("  ".join(c.rjust(w) if n else c.ljust(w) for c, w, n in zip(r, widths, numeric)).rstrip())


def fields(pairs: Sequence[tuple[str, Any]]) -> None:
    """Print ``label: value`` lines with the values aligned."""
    width = max(len(label) for label, _ in pairs)
    for label, value in pairs:
        click.echo(f"{label + ':':<{width + 1}} {_cell(value)}")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value) or "-"
    if isinstance(value, Mapping):  # attributes, properties: read as key=value, never a Python dict
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items()) or "-"
    return str(value)


def _is_number(text: str) -> bool:
    return text.replace(",", "").replace(".", "").split(" ")[0].isdigit() or text == "-"


def short(address: str | None) -> str:
    """mn1abcdefgh…wxyz: enough of an address to tell accounts apart in a table."""
    if not address:
        return "-"
    return address if len(address) <= 16 else f"{address[:10]}…{address[-4:]}"


def page_options(default_limit: int = 20) -> Callable:
    """--limit and --cursor for paginated list commands."""

    def decorate(fn: Callable) -> Callable:
        fn = click.option("--cursor", default=None, help="next_cursor printed by the previous page.")(fn)
        return click.option("--limit", default=default_limit, show_default=True, type=click.IntRange(1, 100))(fn)

    return decorate


def next_page_hint(page: Mapping[str, Any]) -> None:
    if page.get("next_cursor"):
        click.echo(f"more: --cursor {page['next_cursor']}")
