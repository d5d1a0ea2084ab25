"""The embedded store: CouchDB's HTTP API answered in the process, from SQLite, below the core's Runtime.

A Server whose URL is ``file:///abs/dir`` (a directory, one SQLite file per
database) or ``memory://NAME`` (in memory, shared in the process by name;
``memory://`` alone is private to its Server) gets a ``StoreRuntime``
instead of an HTTP one. The Database, Follower, Stream and every ``_api``
module then run unchanged. A flavour chooses its runtime with
``store_or(ItsRuntime)``. See docs/guides/embedded.md.

Layering: this package imports ``_core`` and nothing above it (no ``_api``,
no flavour, no framework).
"""
