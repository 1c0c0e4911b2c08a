"""permessage-deflate through Hypercorn's own handshake with `backend.server.ws_deflate`
installed: negotiation per RFC 7692, no compressor kept per socket, each message
compressed once for every socket, and frames any client decompresses.

These go through `hypercorn.protocol.ws_stream.Handshake`, so they fail if
Hypercorn stops taking its extension from where `install()` replaces it.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import pytest
from hypercorn.protocol.ws_stream import Handshake
from wsproto.connection import Connection
from wsproto.events import BytesMessage, TextMessage
from wsproto.extensions import Extension, PerMessageDeflate
from wsproto.frame_protocol import Frame, FrameProtocol, Opcode

from backend.server import ws_deflate
from backend.server.ws_deflate import SharedDeflate

EVENT = '{"id":7,"type":"order.created","order_id":3,"status":"pending"}' * 3


@pytest.fixture(autouse=True)
def installed() -> Iterator[None]:
    ws_deflate.install()  # as create_app does
    ws_deflate._compressed.clear()
    yield
    ws_deflate._compressed.clear()


def accept(*offers: str) -> tuple[str | None, Connection]:
    """Hypercorn's handshake for a client offering `offers`: the
    Sec-WebSocket-Extensions answer and the server's connection."""
    headers = [
        (b"connection", b"Upgrade"),
        (b"upgrade", b"websocket"),
        (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="),
        (b"sec-websocket-version", b"13"),
    ]
    if offers:
        headers.append((b"sec-websocket-extensions", ", ".join(offers).encode()))
    handshake = Handshake(headers, "1.1")
    assert handshake.is_valid()
    _, response, connection = handshake.accept(None, [])
    answer = dict(response).get(b"sec-websocket-extensions")
    return (answer.decode() if answer is not None else None), connection


def client_reading(answer: str | None) -> FrameProtocol:
    """A client's frame parser configured by the server's answer, as a client
    that offered permessage-deflate (a browser, `websockets`) configures it."""
    extensions: list[Extension] = []
    if answer is not None:
        extension = PerMessageDeflate()
        extension.finalize(answer)
        extensions.append(extension)
    return FrameProtocol(client=True, extensions=extensions)


def frames(data: bytes) -> tuple[bytes, int]:
    """(payload, first byte) of the one unmasked frame in `data`."""
    first, length, start = data[0], data[1], 2
    assert length <= 126, "test messages are under 64 KiB"
    if length == 126:
        length, start = int.from_bytes(data[2:4]), 4
    assert len(data) == start + length
    return data[start:], first


def received(reader: FrameProtocol, data: bytes) -> list[Frame]:
    reader.receive_bytes(data)
    return list(reader.received_frames())


def deflate_of(connection: Connection) -> SharedDeflate:
    (extension,) = connection._proto.extensions
    assert isinstance(extension, SharedDeflate)
    return extension


def test_the_handshake_uses_the_shared_extension() -> None:
    answer, connection = accept("permessage-deflate")
    assert answer == "permessage-deflate; server_no_context_takeover"
    deflate_of(connection)


def test_a_client_that_offers_nothing_gets_plain_frames() -> None:
    answer, connection = accept()
    assert answer is None
    data = connection.send(TextMessage(data=EVENT))
    payload, first = frames(data)
    assert first == 0x81  # FIN, no RSV1, text
    assert payload == EVENT.encode()


@pytest.mark.parametrize(
    ("offer", "expected"),
    [
        # Chromium, Firefox, the `websockets` library
        (
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; server_no_context_takeover; client_max_window_bits=15",
        ),
        # a client that wants a smaller server window
        (
            "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
            "permessage-deflate; server_no_context_takeover; "
            "client_max_window_bits=12; server_max_window_bits=12",
        ),
        (
            "permessage-deflate; server_no_context_takeover; "
            "client_no_context_takeover",
            "permessage-deflate; client_no_context_takeover; "
            "server_no_context_takeover",
        ),
    ],
)
def test_offers_are_answered_with_server_no_context_takeover(
    offer: str, expected: str
) -> None:
    answer, _ = accept(offer)
    assert answer == expected


def test_an_offer_the_server_cannot_meet_is_refused() -> None:
    answer, connection = accept("permessage-deflate; server_max_window_bits=8")
    assert answer is None
    assert connection._proto.extensions == []
    assert frames(connection.send(TextMessage(data=EVENT)))[1] == 0x81


def test_only_the_first_acceptable_offer_is_answered() -> None:
    # A refused offer leaves nothing behind, and a fallback after an accepted
    # offer changes nothing: the answer is the one the server acts on.
    answer, connection = accept(
        "permessage-deflate; client_no_context_takeover; server_max_window_bits=8",
        "permessage-deflate; server_max_window_bits=10",
        "permessage-deflate",
    )
    assert (
        answer
        == "permessage-deflate; server_no_context_takeover; server_max_window_bits=10"
    )
    extension = deflate_of(connection)
    assert extension.server_max_window_bits == 10
    assert not extension.client_no_context_takeover


@pytest.mark.parametrize(
    "offer",
    [
        "permessage-deflate",
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate; server_max_window_bits=9",
        "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12",
    ],
)
def test_many_sockets_get_the_same_bytes_and_every_client_reads_them(
    offer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    compressions = 0
    compressobj = zlib.compressobj

    def counting(*args: object, **kwargs: object) -> zlib._Compress:
        nonlocal compressions
        compressions += 1
        return compressobj(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(zlib, "compressobj", counting)
    sockets = [accept(offer) for _ in range(50)]
    readers = [client_reading(answer) for answer, _ in sockets]
    messages = [EVENT, EVENT.replace("7", "8"), EVENT]
    for message in messages:
        sent = [connection.send(TextMessage(data=message)) for _, connection in sockets]
        assert len(set(sent)) == 1, "every socket sends the same bytes"
        payload, first = frames(sent[0])
        assert first == 0xC1  # FIN, RSV1 (compressed), text
        assert len(payload) < len(message)
        for reader, data in zip(readers, sent, strict=True):
            (frame,) = received(reader, data)
            assert frame.opcode is Opcode.TEXT
            assert frame.payload == message
    assert compressions == 2, "each distinct message compressed once"
    for _, connection in sockets:  # no compressor kept between messages
        assert deflate_of(connection)._compressor is None


def test_the_bytes_are_wsprotos_own_without_context_takeover() -> None:
    _, connection = accept("permessage-deflate; server_max_window_bits=11")
    stock = PerMessageDeflate(
        server_no_context_takeover=True, server_max_window_bits=11
    )
    stock.finalize("permessage-deflate")
    reference = FrameProtocol(client=False, extensions=[stock])
    for message in (EVENT, "", "x" * 5000):
        assert connection.send(TextMessage(data=message)) == reference.send_data(
            message
        )


def test_fragmented_and_binary_messages_still_decompress() -> None:
    answer, connection = accept("permessage-deflate")
    reader = client_reading(answer)
    data = connection.send(TextMessage(data=EVENT[:40], message_finished=False))
    data += connection.send(TextMessage(data=EVENT[40:], message_finished=True))
    data += connection.send(BytesMessage(data=EVENT.encode()))
    text_start, text_end, binary = received(reader, data)
    assert isinstance(text_start.payload, str)
    assert isinstance(text_end.payload, str)
    assert text_start.payload + text_end.payload == EVENT
    assert binary.opcode is Opcode.BINARY
    assert binary.payload == EVENT.encode()


def test_the_cache_stays_bounded() -> None:
    for n in range(ws_deflate.CACHE_ENTRIES + 10):
        ws_deflate.compress_message(f"event {n}".encode(), 15)
    ws_deflate.compress_message(b"x" * (ws_deflate.CACHE_MAX_BYTES + 1), 15)
    assert len(ws_deflate._compressed) == ws_deflate.CACHE_ENTRIES
