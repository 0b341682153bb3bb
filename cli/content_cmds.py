"""marketnode content put/get, and the helpers other commands use to upload files and texts and print them back.

Every text a command puts on chain by hash (review, reply, dispute statement,
ruling) is uploaded first, so every node can serve it; every text printed
back is checked against its on-chain hash, and a mismatch is said, never hidden.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from marketnode.cli.wallet_common import Session, node_command
from marketnode.core.errors import MarketnodeError
from marketnode.core.upload import content_hash
from marketnode.wallet.content import ContentMismatch, get_content, put_content, strip_metadata


@click.group()
def content() -> None:
    """Images and texts every node stores by their sha256 (listing photos, review texts, dispute statements).

    \b
    marketnode content put photo.jpg --key-file testnet/accounts/alice.key
    marketnode content get 9bf4b35b…0b7b -o photo.jpg
    """


def upload(session: Session, data: bytes, kind: str | None = None) -> bytes:
    """Put ``data`` on the session's node as the signing account; its sha256 (what the tx references)."""
    answer = put_content(session.client, session.wallet.key, session.wallet.chain_id, data, kind)
    blob_hash = bytes.fromhex(answer["hash"])
    if blob_hash != content_hash(data):
        raise MarketnodeError(f"the node stored the upload as {answer['hash']}, not under its sha256")
    return blob_hash


def upload_file(session: Session, path: Path, kind: str | None = None) -> bytes:
    """Upload a file; an image loses its metadata first (EXIF GPS position and the like: ``strip_metadata``)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc.strerror}") from None
    return upload(session, strip_metadata(data), kind)


def upload_text(session: Session, text: str) -> bytes:
    return upload(session, text.encode("utf-8"), "text")


def image_refs(session: Session, values: tuple[str, ...]) -> list[bytes]:
    """--image values: a 64-hex content hash is used as given, anything else is a file to upload."""
    out = []
    for value in values:
        if len(value) == 64 and all(c in "0123456789abcdef" for c in value):
            out.append(bytes.fromhex(value))
        else:
            out.append(upload_file(session, Path(value), "image"))
    return out


def shown_text(session: Session, hash_hex: str | None) -> str | None:
    """The text a hash names, fetched from the node and checked; a clear marker when it cannot be shown."""
    if not hash_hex:
        return None
    try:
        data = get_content(session.rpc, bytes.fromhex(hash_hex))
    except ContentMismatch:
        return f"[MISMATCH: the node served bytes that do not hash to {hash_hex[:16]}…]"
    except OSError as exc:
        return f"[not fetched: {exc}]"
    if data is None:
        return f"[not on this node yet: {hash_hex[:16]}…]"
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return f"[not a text: {hash_hex[:16]}…]"


def with_texts(session: Session, obj: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """``obj`` plus ``<name>_text`` for each hash field, for --json output."""
    return {**obj, **{f"{name.removesuffix('_hash')}_text": shown_text(session, obj.get(name)) for name in names}}


@node_command(content, "put", signs=True)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(("image", "text")), default=None,
              help="What the file is meant to be (the node checks the bytes).")
@click.option("--keep-metadata", is_flag=True,
              help="Upload a JPEG or PNG as it is, EXIF (camera, time, GPS position) and comments included.")
def content_put(session: Session, file: Path, kind: str | None, keep_metadata: bool) -> None:
    """Upload FILE (JPEG, PNG or WebP up to 2 MiB, UTF-8 text up to 16 KiB); prints its sha256.

    A JPEG or PNG loses its metadata first (EXIF with the GPS position a phone records, XMP, comments);
    the pixels are not re-encoded. The hash printed is of the bytes uploaded.
    """
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {file}: {exc.strerror}") from None
    if keep_metadata:
        click.echo("keeping the image's metadata (EXIF may hold where it was taken)", err=True)
    else:
        data = strip_metadata(data)
    answer = put_content(session.client, session.wallet.key, session.wallet.chain_id, data, kind)
    session.show(answer, lambda: click.echo(answer["hash"]))


@node_command(content, "get")
@click.argument("hash_hex", metavar="SHA256")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the bytes here (default: print a text to stdout).")
def content_get(session: Session, hash_hex: str, output: Path | None) -> None:
    """Fetch a blob from the node and check it against SHA256."""
    try:
        blob_hash = bytes.fromhex(hash_hex)
    except ValueError:
        raise click.BadParameter("a content hash is 64 hex characters") from None
    data = get_content(session.rpc, blob_hash)
    if data is None:
        raise click.ClickException(f"the node does not hold {hash_hex} (yet)")
    if output is not None:
        output.write_bytes(data)
        session.show({"hash": hash_hex, "size": len(data), "file": str(output)},
                     lambda: click.echo(f"{len(data)} bytes, sha256 checked, written to {output}"))
    else:
        click.echo(data.decode("utf-8", errors="replace"))


COMMANDS = (content,)
