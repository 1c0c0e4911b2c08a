"""permessage-deflate that costs the server no memory per socket and
compresses each message once, however many sockets it goes to.

Every browser offers permessage-deflate (RFC 7692) and Hypercorn 0.18 accepts
every offer with wsproto's `PerMessageDeflate()`, hard-coded in
`hypercorn.protocol.ws_stream.Handshake.accept`. That one keeps a zlib
compressor per socket for the socket's life (context takeover): about 256 KiB
once it has compressed a frame (the 32 KiB window twice over, hash chains, the
pending buffer), 2 GiB at 10,000 order-event subscribers, and an event fanned
out to them was compressed 10,000 times, each first frame also allocating its
socket's compressor. Delivery p99 reached 2.2 s.

`install()` has Hypercorn's handshake use `SharedDeflate` instead, by
replacing the class its module looks up (`ws_stream.PerMessageDeflate`).
`SharedDeflate` is wsproto's extension with two changes:

- Its answer always carries `server_no_context_takeover`, which RFC 7692
  (7.1.1.1) lets a server add to any offer: each message is compressed on its
  own, so the server keeps no compressor between messages, and a message's
  compressed bytes depend only on the message and the window size
  (`server_max_window_bits`, 15 unless the client asked for fewer).
- A whole message (one frame, as Hypercorn sends them) is compressed through
  `compress_message`, a small process-wide cache keyed by the window size and
  the message: an event sent to 10,000 sockets is compressed once. The cache
  holds only bytes already being sent and no compressor state is shared, so
  no socket's compression depends on what another socket was sent.

Fragmented messages, inbound decompression and the parsing of offers remain
wsproto's. Offers are answered one per header: wsproto answered each offer of
a header on the same object, so a client's fallback offer overwrote the
parameters of its first, and a refused one left its parameters behind.
`tests/server/test_ws_deflate.py` fails if Hypercorn stops taking its
extension from there.
"""

from __future__ import annotations

import zlib
from typing import Any

from hypercorn.protocol import ws_stream
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import FrameDecoder, FrameProtocol, Opcode, RsvBits

# How many compressed messages to keep: every event in flight to this
# process's sockets at once, with room to spare.
CACHE_ENTRIES = 256
# Larger messages are compressed every time and not kept (event frames are a
# few hundred bytes); bounds the cache to a few MiB.
CACHE_MAX_BYTES = 16 * 1024
# The zlib flush marker that RFC 7692 (7.2.1) removes from each message.
_SYNC_TAIL = b"\x00\x00\xff\xff"

_compressed: dict[tuple[int, bytes], bytes] = {}


def compress_message(data: bytes, window_bits: int) -> bytes:
    """`data` as one permessage-deflate message without context takeover:
    what wsproto's extension sends, computed once per message and window size."""
    key = (window_bits, data)
    cached = _compressed.get(key)
    if cached is not None:
        return cached
    compressor = zlib.compressobj(
        zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -window_bits
    )
    body = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert body.endswith(_SYNC_TAIL)
    body = body[: -len(_SYNC_TAIL)]
    if len(data) <= CACHE_MAX_BYTES:
        if len(_compressed) >= CACHE_ENTRIES:
            del _compressed[next(iter(_compressed))]  # the oldest
        _compressed[key] = body
    return body


class SharedDeflate(PerMessageDeflate):
    """wsproto's permessage-deflate without server context takeover; whole
    messages compressed through `compress_message`."""

    def __init__(self, **parameters: Any) -> None:
        parameters.setdefault("server_no_context_takeover", True)
        super().__init__(**parameters)

    def accept(self, offer: str) -> bool | str | None:
        """Answer the first acceptable offer of the header; refuse the rest."""
        if self.enabled():
            return None
        trial = SharedDeflate()
        answer = PerMessageDeflate.accept(trial, offer)
        if answer is not None:
            self.__dict__.update(trial.__dict__)
        return answer

    def frame_outbound(
        self,
        proto: FrameDecoder | FrameProtocol,
        opcode: Opcode,
        rsv: RsvBits,
        data: bytes,
        fin: bool,
    ) -> tuple[RsvBits, bytes]:
        if proto.client:
            own_context = not self.client_no_context_takeover
            window_bits = self.client_max_window_bits
        else:
            own_context = not self.server_no_context_takeover
            window_bits = self.server_max_window_bits
        whole_message = fin and opcode in (Opcode.TEXT, Opcode.BINARY)
        if own_context or not whole_message:
            return super().frame_outbound(proto, opcode, rsv, data, fin)
        rsv = RsvBits(True, rsv.rsv2, rsv.rsv3)
        return rsv, compress_message(data, window_bits)


def install() -> None:
    """Have Hypercorn's websocket handshake offer `SharedDeflate` (idempotent)."""
    current = getattr(ws_stream, "PerMessageDeflate", None)
    if current is not PerMessageDeflate and current is not SharedDeflate:
        # Read at start so that a Hypercorn built differently fails loudly.
        raise RuntimeError(
            "hypercorn.protocol.ws_stream no longer uses wsproto's "
            f"PerMessageDeflate (found {current!r}): review backend.server.ws_deflate"
        )
    ws_stream.PerMessageDeflate = SharedDeflate  # type: ignore[attr-defined, assignment]
