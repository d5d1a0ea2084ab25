"""How a flavour picks its Runtime: the embedded store's for a store URL, its own for a server's."""

from __future__ import annotations

from collections.abc import Callable

from .._core.errors import InvalidArgument
from .._core.runtime import Runtime, Timeouts
from .._core.tls import TLSConfig
from .store import acquire_store, is_store_url

__all__ = ["is_store_url", "store_or"]


def store_or(
    make_loop_runtime: Callable[[Timeouts, TLSConfig | None], Runtime],
) -> Callable[[str, Timeouts, TLSConfig | None], Runtime]:
    """The Flavour's ``make_runtime``: a StoreRuntime for a store URL, else the flavour's own runtime."""

    def make_runtime(base: str, timeouts: Timeouts, tls: TLSConfig | None) -> Runtime:
        if not is_store_url(base):
            return make_loop_runtime(timeouts, tls)
        from .runtime import StoreRuntime

        try:
            store = acquire_store(base)
        except ValueError as exc:
            raise InvalidArgument(str(exc)) from None
        return StoreRuntime(base, store, make_loop_runtime(timeouts, None))

    return make_runtime
