"""Create and delete a database: the seed's example, for asyncio.

With the required permissions (admin on Apache CouchDB) you can create and
destroy databases.
"""

import asyncio
import os
import uuid

from wallaby.backends.couchdb.aio import Database, NotFound, PreconditionFailed, ServerError

URL = os.environ.get("COUCHDB_URL", "http://localhost:5984")


async def run():
    async with Database(f"wallaby-example-{uuid.uuid4().hex[:8]}", url=URL) as newdb:
        # Create the new database
        res = await newdb.create()
        print("create:", res)  # {'ok': True}

        # Creating it again is an error, raised as an exception
        try:
            await newdb.create()
        except PreconditionFailed as exc:
            print("create again:", exc.status, exc.error)  # 412 file_exists

        # Destroy the new database
        res = await newdb.destroy()
        print("destroy:", res)  # {'ok': True}

        # It is gone. On a cluster the other nodes learn so a moment later: a read
        # right away may still find it, or fail with a 500 while its shards close.
        try:
            await newdb.info()
        except NotFound as exc:
            print("info after destroy:", exc.status, exc.reason)
        except ServerError as exc:
            print("info after destroy, on a cluster:", exc.status)


asyncio.run(run())
