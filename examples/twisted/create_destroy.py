"""Create and delete a database: the seed's example, fixed (Twisted).

With the required permissions (admin on Apache CouchDB) you can create and
destroy databases.
"""

import os
import uuid

from twisted.internet import defer, task

from wallaby.backends.couchdb import Database, NotFound, PreconditionFailed, ServerError

URL = os.environ.get("COUCHDB_URL", "http://localhost:5984")


@defer.inlineCallbacks
def run(reactor):
    newdb = Database(f"wallaby-example-{uuid.uuid4().hex[:8]}", url=URL)

    # Create the new database
    res = yield newdb.create()
    print("create:", res)  # {'ok': True}

    # Creating it again is an error, raised as an exception
    try:
        yield newdb.create()
    except PreconditionFailed as exc:
        print("create again:", exc.status, exc.error)  # 412 file_exists

    # Destroy the new database
    res = yield newdb.destroy()
    print("destroy:", res)  # {'ok': True}

    # It is gone. On a cluster the other nodes learn so a moment later: a read
    # right away may still find it, or fail with a 500 while its shards close.
    try:
        yield newdb.info()
    except NotFound as exc:
        print("info after destroy:", exc.status, exc.reason)
    except ServerError as exc:
        print("info after destroy, on a cluster:", exc.status)

    yield newdb.close()


task.react(run)
