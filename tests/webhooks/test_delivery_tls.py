"""An https delivery goes to the checked address yet verifies the URL's host.

The connection is made to the address the SSRF guard checked, not to a second
DNS answer; TLS must still send the URL's host as SNI and check the
certificate against it, or pinning would break every https receiver (or,
worse, skip the check).
"""

from __future__ import annotations

import asyncio
import datetime
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from backend.config import Settings
from backend.webhooks import delivery, signing
from backend.webhooks.secrets import new_secret
from tests.conftest import make_settings


def _certificate(directory: Path, host: str) -> tuple[Path, Path]:
    """A self-signed certificate for `host`: its PEM file and its key's."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class TlsReceiver:
    """Answers 200; notes the SNI each handshake sent and each request's Host."""

    def __init__(self) -> None:
        self.server_names: list[str | None] = []
        self.hosts: list[str] = []

    def context(self, cert_file: Path, key_file: Path) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
        context.sni_callback = self._note_server_name
        return context

    def _note_server_name(
        self, _socket: ssl.SSLObject, name: str | None, _context: ssl.SSLContext
    ) -> None:
        self.server_names.append(name)

    async def serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            fields = {
                name.strip().lower(): value.strip()
                for name, _, value in (
                    line.partition(":") for line in head.split("\r\n")[1:] if line
                )
            }
            await reader.readexactly(int(fields["content-length"]))
            self.hosts.append(fields["host"])
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()


def _settings() -> Settings:
    return make_settings("sqlite+aiosqlite:///unused.db", webhook_allow_private=True)


async def _deliver_over_tls(
    tmp_path: Path, *, certificate_host: str
) -> tuple[delivery.Outcome, TlsReceiver, int]:
    cert_file, key_file = _certificate(tmp_path, certificate_host)
    receiver = TlsReceiver()
    server = await asyncio.start_server(
        receiver.serve, "127.0.0.1", 0, ssl=receiver.context(cert_file, key_file)
    )
    port = server.sockets[0].getsockname()[1]
    # `localhost` resolves to the loopback address the receiver listens on.
    message = delivery.Message(
        f"https://localhost:{port}/hook", [new_secret()], signing.message_id(1), b"{}"
    )
    client = delivery.new_client(ssl.create_default_context(cafile=cert_file))
    try:
        outcome = await delivery.send(client, message, _settings())
    finally:
        await client.close()
        server.close()
        await server.wait_closed()
    return outcome, receiver, port


async def test_https_delivery_sends_the_url_host_as_sni_and_host(
    tmp_path: Path,
) -> None:
    outcome, receiver, port = await _deliver_over_tls(
        tmp_path, certificate_host="localhost"
    )

    assert outcome.response_status == 200, outcome.error
    assert receiver.server_names == ["localhost"]
    assert receiver.hosts == [f"localhost:{port}"]


async def test_a_certificate_for_another_host_fails_the_delivery(
    tmp_path: Path,
) -> None:
    outcome, receiver, _ = await _deliver_over_tls(
        tmp_path, certificate_host="elsewhere.test"
    )

    assert outcome.response_status is None
    assert outcome.error is not None
    assert "Certificate" in outcome.error
    assert receiver.hosts == []
