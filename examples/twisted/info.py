"""Connect to a database and print its info: the seed's first example, fixed (Twisted).

    COUCHDB_URL=http://admin:secret@localhost:5984 python examples/twisted/info.py

Credentials go in the URL, or as ``user=``/``password=`` (the seed's page said
``username=``, which is accepted too).
"""

import os
import uuid

from twisted.internet import defer, task

from wallaby.backends.couchdb import Database

URL = os.environ.get("COUCHDB_URL", "http://localhost:5984")


@defer.inlineCallbacks
def run(reactor):
    # Create database client object
    db = Database(
        f"wallaby-example-{uuid.uuid4().hex[:8]}",
        user=os.environ.get("COUCHDB_USER"),  # None: take them from the URL, if any
        password=os.environ.get("COUCHDB_PASSWORD"),
        url=URL,
    )
    yield db.create()  # the example makes its own database
    try:
        # Query database info in an async manner
        info = yield db.info()

        # Output the info dict
        print(info)
    finally:
        yield db.destroy()
        yield db.close()  # release the connection pool


# react() runs the reactor until run()'s Deferred fires, then stops it and exits
task.react(run)
