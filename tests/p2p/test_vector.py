"""The handshake test vector of docs/P2P.md §2.3, recomputed, so the document cannot drift from the code."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from marketnode.core.keys import PrivateKey
from marketnode.p2p.framing import MsgFrame, encode_frame
from marketnode.p2p.handshake import Initiator, Responder, transcript_hash

HELLO_I = (
    "87a9616476657274697365ae31302e302e302e313a3236363536a8636861696e5f6964ac766563746f722d636861696e"
    "a96368616c6c656e6765c4209fa591aa73192dcc644933ef353c39037d2588410db738bf06ad2f450e9d9549a76570685f"
    "6b6579c420b0a83017569235ae0a965cfb6ec79a5e1bb3f44e16158b6a271c94dbf695127ca86e6f64655f6b6579c42003"
    "a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8a474797065a568656c6c6fa776657273696f6e01"
)
HELLO_AUTH = (
    "83a568656c6c6f87a9616476657274697365ae31302e302e302e323a3236363536a8636861696e5f6964ac766563746f72"
    "2d636861696ea96368616c6c656e6765c4206b4e4c01a7ad14659a6796d976ec86db87bcd63c92c7931435d51949d6e8b4"
    "08a76570685f6b6579c420615059907417e8f5b1dfc7decc37c861fb5184306365b26a3d4a67d8e3924b3ca86e6f64655f"
    "6b6579c42029acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7a474797065a568656c6c6fa7"
    "76657273696f6e01a3736967c440b462c1d05d8db3d4657695850b7a8ebd786d6737794a2549bcc5b40e466ebb6c5555d3"
    "276c69e23df89426950a16e5f249521d33afba23d07ddd3955b3b7fa03a474797065aa68656c6c6f5f61757468"
)
AUTH = (
    "82a3736967c4409dc556f49ef11747fbe0254bb520192a0bad1889539239ba92102d0c9121afd0c70d82b070cabc68459e"
    "f48c9370f0300dce67730d6c810c4d4e1987c048400da474797065a461757468"
)


def _randomness(label: bytes) -> Callable[[int], bytes]:
    counter = 0

    def draw(size: int) -> bytes:
        nonlocal counter
        counter += 1
        return hashlib.sha256(label + bytes([counter])).digest()[:size]

    return draw


def test_handshake_vector() -> None:
    dialer, listener = PrivateKey(bytes(range(32))), PrivateKey(bytes(range(32, 64)))
    initiator = Initiator(dialer, "vector-chain", 1, "10.0.0.1:26656", random=_randomness(b"i"))
    responder = Responder(listener, "vector-chain", 1, "10.0.0.2:26656", random=_randomness(b"r"))

    hello = initiator.first_message()
    reply = responder.on_hello(hello)
    auth, dialer_side = initiator.on_reply(reply)
    listener_side = responder.on_auth(auth)

    assert (hello.hex(), reply.hex(), auth.hex()) == (HELLO_I, HELLO_AUTH, AUTH)
    assert transcript_hash(initiator.hello, responder.hello).hex() == (
        "7356eb7246a1e36dc34143e180eed3c5260caa90da7b154248aedc3b06c6cea7"
    )
    k_i2r = "2a90f7f88424b3065a62fb6a0f2667bc979b5530f5e4620ba5f248dee0f48d84"
    k_r2i = "8fccc3c544ea00884dfa40dd73f5917964913da0d18b760ab7dfaa73179a95a3"
    assert (dialer_side.cipher._send_key.hex(), dialer_side.cipher._recv_key.hex()) == (k_i2r, k_r2i)
    assert (listener_side.cipher._send_key.hex(), listener_side.cipher._recv_key.hex()) == (k_r2i, k_i2r)
    plaintext = encode_frame(MsgFrame("tx", b"\x01\x02"))
    assert plaintext.hex() == "83a77061796c6f6164c4020102a5746f706963a27478a474797065a36d7367"
    sealed = dialer_side.cipher.seal(plaintext)
    assert sealed.hex() == (
        "2783ecffb63f979de685317c8ea00734b0d295edb6487623924314fb950f5b605c422cf379f52bda2bb20dedfbb9e3"
    )
    assert listener_side.cipher.open(sealed) == plaintext
