"""``wallaby-couchdb``: CouchDB from the shell, on any URL the library takes.

::

    wallaby-couchdb --url http://admin:secret@localhost:5984 dbs
    wallaby-couchdb dump mydb > mydb.jsonl
    wallaby-couchdb follow mydb --include-docs --checkpoint mydb.seq

Installed with the ``cli`` extra (``pip install 'wallaby-backend-couchdb[cli]'``);
it uses the asyncio flavour. ``wallaby-couchdb COMMAND --help`` shows each
command with an example.
"""

from __future__ import annotations

from .app import cli, main

__all__ = ["cli", "main"]
