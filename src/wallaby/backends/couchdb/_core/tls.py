"""TLS options for ``https://`` servers, checked once, here, for both runtimes.

Rules kept here:

- Certificates are verified by default: the system's CA store and the host
  name in the URL. ``TLSConfig`` only narrows or loosens that on request.
- ``ca_file`` replaces the system's CAs with the PEM bundle given (a private
  CA); ``cert_file`` (with ``key_file``, or the key in the same PEM file) is
  the client certificate shown to a server that asks for one. The key must
  not be encrypted.
- ``verify=False`` accepts any certificate and any host name: for tests only.
- Files are checked when the Server is made, never at the first request;
  each flavour's network turns the options into its framework's object (an
  ``ssl.SSLContext`` for asyncio, a connection creator from
  ``optionsForClientTLS`` for Twisted) and reports a failed handshake as
  ``TLSError``.
"""

from __future__ import annotations

import os
from typing import Union

from .checks import flag
from .errors import InvalidArgument, InvalidType, TLSError

__all__ = ["TLSConfig", "check_tls", "tls_error"]

Path = Union[str, "os.PathLike[str]"]


def _pem_file(value: object, what: str, markers: tuple[bytes, ...]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise InvalidType(f"{what} must be a path (str or os.PathLike), not {type(value).__name__}")
    path = os.fspath(value)
    if not isinstance(path, str):
        raise InvalidType(f"{what} must be a str path, not bytes")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise InvalidArgument(f"{what} {path!r} cannot be read: {exc.strerror or exc}") from None
    if not any(marker in data for marker in markers):
        wanted = " or ".join(marker.decode() for marker in markers)
        raise InvalidArgument(f"{what} {path!r} holds no PEM {wanted}")
    return path


_CERTIFICATE = (b"-----BEGIN CERTIFICATE-----",)
_KEY = (b"PRIVATE KEY-----",)


class TLSConfig:
    """How to check an ``https://`` server, and which client certificate to show it.

    ``TLSConfig(ca_file=None, cert_file=None, key_file=None, verify=True)``;
    give it as ``Server(url, tls=...)`` (or ``Database(..., tls=...)``).
    """

    __slots__ = ("ca_file", "cert_file", "key_file", "verify")

    def __init__(
        self,
        ca_file: Path | None = None,
        cert_file: Path | None = None,
        key_file: Path | None = None,
        verify: bool = True,
    ) -> None:
        flag(verify, "verify")
        if key_file is not None and cert_file is None:
            raise InvalidArgument("key_file needs cert_file (the client certificate it belongs to)")
        if ca_file is not None and not verify:
            raise InvalidArgument("ca_file is for verifying: it makes no sense with verify=False")
        self.ca_file = _pem_file(ca_file, "ca_file", _CERTIFICATE)
        self.cert_file = _pem_file(cert_file, "cert_file", _CERTIFICATE)
        self.key_file = _pem_file(key_file, "key_file", _KEY)
        if self.cert_file is not None and self.key_file is None:
            _pem_file(self.cert_file, "cert_file without key_file", _KEY)
        self.verify = verify

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}" for name in self.__slots__ if getattr(self, name) is not None
        )
        return f"TLSConfig({fields})"


def check_tls(url: str, tls: object) -> TLSConfig | None:
    """``tls`` checked against the server URL it is meant for."""
    if tls is None:
        return None
    if not isinstance(tls, TLSConfig):
        raise InvalidType(f"tls must be a TLSConfig, not {type(tls).__name__}")
    if not url.startswith("https://"):
        raise InvalidArgument(f"tls options are for an https:// URL, not {url!r}")
    return tls


def tls_error(detail: str, method: str, url: str) -> TLSError:
    """The error for a failed TLS handshake, worded the same in every runtime."""
    lowered = detail.lower()
    if "mismatch" in lowered or "not valid for" in lowered or "not for this host" in lowered:
        hint = "the certificate does not name the host of the URL"
    elif "verify failed" in lowered:
        hint = "a server with a private CA needs Server(..., tls=TLSConfig(ca_file=...))"
    elif "certificate required" in lowered:
        hint = "the server wants a client certificate: TLSConfig(cert_file=..., key_file=...)"
    else:
        hint = ""
    return TLSError(f"TLS handshake failed: {detail}" + (f" ({hint})" if hint else ""), method=method, url=url)
