"""Attachment handling: the seed's example, for asyncio.

    python examples/asyncio/attachments.py [some.png]

The seed passed ``content-type='image/png'``, which is not a Python keyword
argument; it is ``contentType=`` (or ``content_type=``).
"""

import asyncio
import base64
import os
import sys
import uuid
from pathlib import Path

from wallaby.backends.couchdb.aio import Database, NotFound

URL = os.environ.get("COUCHDB_URL", "http://localhost:5984")

# a 1x1 PNG, used when no file is given
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


async def run():
    async with Database(f"wallaby-example-{uuid.uuid4().hex[:8]}", url=URL) as db:
        await db.create()
        try:
            doc = {"_id": "newdocid"}
            await db.save(doc)

            # First we load a file to attach, in a thread so the loop keeps running
            if len(sys.argv) > 1:
                content = await asyncio.to_thread(Path(sys.argv[1]).read_bytes)
            else:
                content = TINY_PNG

            # Now we can attach this file to an existing document; doc["_rev"] is updated
            res = await db.put_attachment(doc, "newimage.png", content, contentType="image/png")
            print("put_attachment:", res)

            # And load from database again (bytes)
            loaded = await db.get_attachment(doc, "newimage.png")
            print("get_attachment:", len(loaded), "bytes, same:", loaded == content)

            # and finally delete it
            res = await db.delete_attachment(doc, "newimage.png")
            print("delete_attachment:", res)

            try:
                await db.get_attachment(doc, "newimage.png")
            except NotFound as exc:
                print("get_attachment after delete:", exc.status, exc.reason)
        finally:
            await db.destroy()


asyncio.run(run())
