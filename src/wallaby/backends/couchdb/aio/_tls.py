"""TLSConfig as asyncio wants it: an ``ssl.SSLContext``; and which failures are TLS ones."""

from __future__ import annotations

import ssl

from .._core.errors import InvalidArgument
from .._core.tls import TLSConfig

__all__ = ["ssl_context", "tls_failure"]


def ssl_context(tls: TLSConfig) -> ssl.SSLContext:
    """The context for ``tls``: its CAs (or the system's), its client certificate."""
    try:
        context = ssl.create_default_context(cafile=tls.ca_file)
        if not tls.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if tls.cert_file is not None:
            context.load_cert_chain(tls.cert_file, tls.key_file)
    except ssl.SSLError as exc:
        raise InvalidArgument(f"the TLS files cannot be loaded: {exc.reason or exc}") from None
    return context


def tls_failure(exc: BaseException) -> str | None:
    """What went wrong in a TLS handshake, or None when ``exc`` is another failure."""
    if isinstance(exc, ssl.SSLError):
        return str(exc)
    return None
