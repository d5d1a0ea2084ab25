"""Read, write, create and delete documents: the seed's examples, for asyncio.

Errors are raised as exceptions, so there is no ``'error' in res`` to check;
``save`` writes the new ``_rev`` back into your dict.
"""

import asyncio
import os
import uuid

from wallaby.backends.couchdb.aio import Database, DocumentUpdateConflict, NotFound

URL = os.environ.get("COUCHDB_URL", "http://localhost:5984")


async def run():
    async with Database(f"wallaby-example-{uuid.uuid4().hex[:8]}", url=URL) as db:
        await db.create()
        try:
            # Create a new doc
            doc = {"_id": "newdocid"}
            res = await db.save(doc)

            # the result contains the response from the CouchDB server; a failure
            # would have raised. The new revision was written into the "_rev" field.
            print("saved:", res)
            print("doc['_rev']:", doc["_rev"])
            first_rev = doc["_rev"]

            # Get a document by id
            doc = await db.get("newdocid")

            # add a new value to the document
            doc["test"] = "Hello World"

            # save the document
            res = await db.save(doc)
            print("updated:", res)

            # an older revision of it
            old = await db.get("newdocid", rev=first_rev)
            print("get(rev=...):", old)

            # saving a stale copy is a conflict
            try:
                await db.save({"_id": "newdocid", "test": "stale"})
            except DocumentUpdateConflict as exc:
                print("conflict:", exc.status, exc.reason)

            # many documents at once: a dict with "docs" goes to _bulk_docs and every
            # doc gets its _rev; each result says ok or error (errors are not raised)
            bulk = {"docs": [{"_id": "a"}, {"_id": "b"}, {"_id": "newdocid"}]}
            results = await db.save(bulk)
            for result in results:
                print("bulk:", result["id"], result.get("error") or "ok")

            # delete the document
            res = await db.delete(doc)
            print("deleted:", res)

            try:
                await db.get("newdocid")
            except NotFound as exc:
                print("get after delete:", exc.status, exc.reason, exc.url)
        finally:
            await db.destroy()


asyncio.run(run())
