"""Connect to a database and print its info: the seed's first example, for asyncio.

    COUCHDB_URL=http://admin:secret@localhost:5984 python examples/asyncio/info.py

Credentials go in the URL, or as ``user=``/``password=`` (the seed's page said
``username=``, which is accepted too).
"""

import asyncio
import os
import uuid

from wallaby.backends.couchdb.aio import Database

URL = os.environ.get("COUCHDB_URL", "http://localhost:5984")


async def run():
    # Create database client object; `async with` closes its connection pool
    async with Database(
        f"wallaby-example-{uuid.uuid4().hex[:8]}",
        user=os.environ.get("COUCHDB_USER"),  # None: take them from the URL, if any
        password=os.environ.get("COUCHDB_PASSWORD"),
        url=URL,
    ) as db:
        await db.create()  # the example makes its own database
        try:
            # Query database info
            info = await db.info()

            # Output the info dict
            print(info)
        finally:
            await db.destroy()


asyncio.run(run())
