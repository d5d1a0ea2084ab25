"""The replicator: CouchDB's replication protocol run by the library, between any two Databases.

::

    replication.py  Replication (one way, one-shot or continuous) and replicate()
    sync.py         Sync (both ways) and sync()
    transfer.py     one batch: _revs_diff, _bulk_get, _bulk_docs; documents with attachments one by one
    checkpoints.py  the _local checkpoint documents, in CouchDB's format, and where to resume
    ids.py          the replication id
    options.py      the options, checked
    progress.py     counters, states, events and results

It uses the public Database API only (``_core`` and ``_api``), so it runs on
any Database: on a server or on the embedded store, in either flavour.
"""

from __future__ import annotations

from .progress import ReplicationEvent, ReplicationResult, SyncResult
from .replication import Replication, replicate
from .sync import Sync, sync

__all__ = ["Replication", "ReplicationEvent", "ReplicationResult", "Sync", "SyncResult", "replicate", "sync"]
