"""TLS: certificates verified by default, a private CA, a client certificate, verify=False.

A throwaway CA signs a certificate for ``localhost``; a small TLS-terminating
proxy (threads, the standard library's ``ssl``) in front of the test server
presents it. A second proxy also demands a client certificate from that CA.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from wallaby.backends.couchdb import InvalidArgument, InvalidType, TLSConfig

pytestmark = pytest.mark.server_only("TLS is between a client and a server")

# --- a throwaway CA and its certificates ---------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(subject: str, issuer_key: Any, issuer: x509.Name | None, *, ca: bool = False, sans=(), usage=None):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer or _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        ).add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    cert = builder.sign(issuer_key or key, hashes.SHA256())
    return key, cert


def _write(folder: Path, stem: str, key: Any, cert: x509.Certificate) -> tuple[str, str]:
    cert_path, key_path = folder / f"{stem}.pem", folder / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


class PKI:
    def __init__(self, folder: Path) -> None:
        ca_key, ca_cert = _issue("wallaby test CA", None, None, ca=True)
        self.ca_file, _ = _write(folder, "ca", ca_key, ca_cert)
        server_key, server_cert = _issue(
            "localhost",
            ca_key,
            ca_cert.subject,
            sans=[x509.DNSName("localhost")],
            usage=ExtendedKeyUsageOID.SERVER_AUTH,
        )
        self.server_cert, self.server_key = _write(folder, "server", server_key, server_cert)
        client_key, client_cert = _issue(
            "wallaby client", ca_key, ca_cert.subject, usage=ExtendedKeyUsageOID.CLIENT_AUTH
        )
        self.client_cert, self.client_key = _write(folder, "client", client_key, client_cert)
        self.client_combined = str(folder / "client-combined.pem")
        Path(self.client_combined).write_bytes(Path(self.client_cert).read_bytes() + Path(self.client_key).read_bytes())
        other_key, other_ca = _issue("another CA", None, None, ca=True)
        self.other_ca_file, _ = _write(folder, "other-ca", other_key, other_ca)
        self.folder = folder


# --- a TLS-terminating proxy ------------------------------------------------------------


class TLSProxy:
    """Accepts TLS on 127.0.0.1 and forwards the plain bytes to ``target``, one thread per direction."""

    def __init__(self, pki: PKI, target: tuple[str, int], *, client_certs: bool = False) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(pki.server_cert, pki.server_key)
        if client_certs:
            self.context.verify_mode = ssl.CERT_REQUIRED
            self.context.load_verify_locations(pki.ca_file)
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.handshakes = 0
        self.failed_handshakes = 0
        self._closed = False
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        raw.settimeout(10)
        try:
            tls = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            self.failed_handshakes += 1
            raw.close()
            return
        self.handshakes += 1
        tls.settimeout(None)
        try:
            upstream = socket.create_connection(self.target)
        except OSError:
            tls.close()
            return
        self._sockets += [tls, upstream]
        threading.Thread(target=self._pump, args=(upstream, tls), daemon=True).start()
        self._pump(tls, upstream)

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        self._closed = True
        self.listener.close()
        for sock in self._sockets:
            try:
                sock.close()
            except OSError:
                pass


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return PKI(tmp_path_factory.mktemp("pki"))


def _target(server_info: Any) -> tuple[str, int]:
    parts = urlsplit(server_info.url)
    return parts.hostname or "127.0.0.1", parts.port or 5984


@pytest.fixture(scope="module")
def tls_proxy(pki: PKI, server_info: Any) -> Any:
    proxy = TLSProxy(pki, _target(server_info))
    yield proxy
    proxy.close()


@pytest.fixture(scope="module")
def mutual_tls_proxy(pki: PKI, server_info: Any) -> Any:
    proxy = TLSProxy(pki, _target(server_info), client_certs=True)
    yield proxy
    proxy.close()


def https(proxy: TLSProxy, host: str = "localhost") -> str:
    return f"https://{host}:{proxy.port}"


def _credentials(couch: Any) -> dict[str, str]:
    parts = urlsplit(couch.url)  # COUCHDB_URL carries the admin's credentials
    if not parts.username:
        return {}
    return {"user": unquote(parts.username), "password": unquote(parts.password or "")}


# --- behaviour --------------------------------------------------------------------


async def test_a_server_certificate_from_the_given_ca_is_accepted(couch, pki, tls_proxy):
    server = couch.server(https(tls_proxy), tls=TLSConfig(ca_file=pki.ca_file), **_credentials(couch))
    welcome = await server.info()
    assert "version" in welcome
    db = await couch.fresh_db()
    through_tls = server.database(db.name)
    saved = await through_tls.save({"_id": "over-tls", "n": 1})
    assert (await db.get("over-tls"))["_rev"] == saved["rev"]


async def test_a_certificate_from_an_unknown_ca_is_refused_by_default(couch, tls_proxy):
    server = couch.server(https(tls_proxy))
    with pytest.raises(couch.module.TLSError) as caught:
        await server.info()
    error = caught.value
    assert isinstance(error, couch.module.NetworkError)
    assert "certificate" in str(error).lower()
    assert "ca_file" in str(error)  # says how to trust a private CA
    assert error.url == https(tls_proxy) + "/"


async def test_a_certificate_from_another_ca_is_refused(couch, pki, tls_proxy):
    server = couch.server(https(tls_proxy), tls=TLSConfig(ca_file=pki.other_ca_file))
    with pytest.raises(couch.module.TLSError):
        await server.info()


async def test_a_certificate_for_another_host_name_is_refused(couch, pki, tls_proxy):
    # the certificate names localhost only; 127.0.0.1 is the same socket under another name
    server = couch.server(https(tls_proxy, "127.0.0.1"), tls=TLSConfig(ca_file=pki.ca_file))
    with pytest.raises(couch.module.TLSError):
        await server.info()


async def test_verify_false_accepts_any_certificate(couch, tls_proxy):
    for host in ("localhost", "127.0.0.1"):
        server = couch.server(https(tls_proxy, host), tls=TLSConfig(verify=False), **_credentials(couch))
        assert "version" in await server.info()


async def test_a_client_certificate_is_shown_when_the_server_asks(couch, pki, mutual_tls_proxy):
    for tls in (
        TLSConfig(ca_file=pki.ca_file, cert_file=pki.client_cert, key_file=pki.client_key),
        TLSConfig(ca_file=pki.ca_file, cert_file=pki.client_combined),
        TLSConfig(verify=False, cert_file=pki.client_cert, key_file=pki.client_key),
    ):
        server = couch.server(https(mutual_tls_proxy), tls=tls, **_credentials(couch))
        assert "version" in await server.info()


async def test_without_a_client_certificate_a_server_that_demands_one_refuses(couch, pki, mutual_tls_proxy):
    server = couch.server(https(mutual_tls_proxy), tls=TLSConfig(ca_file=pki.ca_file))
    with pytest.raises(couch.module.NetworkError):
        await server.info()


async def test_a_database_takes_the_tls_option_too(couch, pki, tls_proxy):
    db = await couch.fresh_db()
    credentials = _credentials(couch)
    over_tls = couch.Database(db.name, url=https(tls_proxy), tls=TLSConfig(ca_file=pki.ca_file), **credentials)
    try:
        assert (await over_tls.info())["db_name"] == db.name
    finally:
        await over_tls.close()


# --- TLSConfig is checked when it is made, before any connection ----------------


def test_tlsconfig_refuses_what_cannot_work(pki, tmp_path):
    missing = str(tmp_path / "nope.pem")
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    with pytest.raises(InvalidArgument, match="cannot be read"):
        TLSConfig(ca_file=missing)
    with pytest.raises(InvalidArgument, match="no PEM"):
        TLSConfig(ca_file=str(not_pem))
    with pytest.raises(InvalidArgument, match="key_file needs cert_file"):
        TLSConfig(key_file=pki.client_key)
    with pytest.raises(InvalidArgument, match="no PEM"):  # a certificate without its key
        TLSConfig(cert_file=pki.client_cert)
    with pytest.raises(InvalidArgument, match="no PEM"):  # a key where the certificate should be
        TLSConfig(cert_file=pki.client_key, key_file=pki.client_key)
    with pytest.raises(InvalidArgument, match="verify=False"):
        TLSConfig(ca_file=pki.ca_file, verify=False)
    with pytest.raises(InvalidType):
        TLSConfig(verify="no")
    with pytest.raises(InvalidType):
        TLSConfig(ca_file=42)
    assert TLSConfig(ca_file=Path(pki.ca_file)).ca_file == pki.ca_file


async def test_tls_options_need_an_https_url_and_a_tlsconfig(couch, pki):
    with pytest.raises(InvalidArgument, match="https://"):
        couch.Server("http://localhost:5984", tls=TLSConfig(ca_file=pki.ca_file))
    with pytest.raises(InvalidType):
        couch.Server("https://localhost:5984", tls={"ca_file": pki.ca_file})


async def test_a_key_that_does_not_fit_the_certificate_is_refused_when_the_server_is_made(couch, pki, tmp_path):
    other_key = ec.generate_private_key(ec.SECP256R1())
    key_path = tmp_path / "other.key"
    key_path.write_bytes(
        other_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(InvalidArgument, match="cannot be loaded"):
        couch.Server("https://localhost:5984", tls=TLSConfig(cert_file=pki.client_cert, key_file=str(key_path)))
