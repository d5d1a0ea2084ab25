"""TLSConfig as Twisted wants it: a connection creator per host; and which failures are TLS ones.

pyOpenSSL and service_identity come with ``twisted[tls]``; they are imported
only when a Server has TLS options or a failure needs a name.
"""

from __future__ import annotations

import re
from typing import Any

from twisted.internet import ssl
from twisted.internet.abstract import isIPAddress, isIPv6Address
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from zope.interface import implementer

from .._core.errors import InvalidArgument
from .._core.tls import TLSConfig

__all__ = ["TLSPolicy", "tls_failure"]

_PEM_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _client_keys(client: Any) -> dict[str, Any]:
    """The client certificate and key, as the cryptography objects pyOpenSSL now prefers."""
    keys = {
        "privateKey": client.privateKey.original.to_cryptography_key(),
        "certificate": client.original.to_cryptography(),
    }
    try:
        ssl.CertificateOptions(**keys).getContext()
    except Exception:  # an older pyOpenSSL takes only its own objects
        keys = {"privateKey": client.privateKey.original, "certificate": client.original}
    return keys


@implementer(IOpenSSLClientConnectionCreator)
class _Unverified:
    """A TLS client connection that checks nothing (``verify=False``), still sending SNI."""

    def __init__(self, hostname: bytes, context: Any) -> None:
        self._hostname = hostname
        self._context = context
        text = hostname.decode("ascii", "replace")
        self._sni = not (isIPAddress(text) or isIPv6Address(text))

    def clientConnectionForTLS(self, tlsProtocol: Any) -> Any:
        from OpenSSL import SSL

        connection = SSL.Connection(self._context, None)
        connection.set_app_data(tlsProtocol)
        if self._sni:
            connection.set_tlsext_host_name(self._hostname)
        return connection


class TLSPolicy:
    """Certificates checked against ``ca_file`` (or the platform's CAs); a client certificate."""

    def __init__(self, tls: TLSConfig) -> None:
        self._verify = tls.verify
        try:
            self._trust = None
            if tls.ca_file is not None:
                pems = _PEM_CERTIFICATE.findall(_read(tls.ca_file))
                self._trust = ssl.trustRootFromCertificates([ssl.Certificate.loadPEM(pem) for pem in pems])
            self._keys: dict[str, Any] = {}
            if tls.cert_file is not None:
                pem = _read(tls.cert_file)
                if tls.key_file is not None:
                    pem += b"\n" + _read(tls.key_file)
                self._keys = _client_keys(ssl.PrivateCertificate.loadPEM(pem))
            self._unverified_context = None
            if not tls.verify:
                self._unverified_context = ssl.CertificateOptions(verify=False, **self._keys).getContext()
        except Exception as exc:  # pyOpenSSL's errors for a bad PEM or a key that does not fit
            raise InvalidArgument(f"the TLS files cannot be loaded: {exc}") from None

    def creatorForNetloc(self, hostname: bytes, port: int) -> Any:
        if self._unverified_context is not None:
            return _Unverified(hostname, self._unverified_context)
        return ssl.optionsForClientTLS(
            hostname.decode("ascii"), trustRoot=self._trust, extraCertificateOptions=self._keys
        )


def tls_failure(exc: BaseException) -> str | None:
    """What went wrong in a TLS handshake, or None when ``exc`` is another failure."""
    from OpenSSL import SSL
    from service_identity import VerificationError

    if isinstance(exc, VerificationError):
        return f"host name mismatch: {exc}"
    if isinstance(exc, SSL.Error):
        reasons = [entry[-1] for entry in (exc.args[0] if exc.args and isinstance(exc.args[0], list) else ()) if entry]
        return "; ".join(str(reason) for reason in reasons) or str(exc)
    return None
