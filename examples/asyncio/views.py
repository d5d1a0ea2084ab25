"""Views: the seed's example, for asyncio.

View parameters are Python values: keys are JSON-encoded by the library, so
``key="apple"`` needs no hand-quoting. ``count`` is the seed's name for ``limit``.
"""

import asyncio
import os
import uuid

from wallaby.backends.couchdb.aio import Database, ViewError

URL = os.environ.get("COUCHDB_URL", "http://localhost:5984")

DESIGN = {
    "_id": "_design/designname",
    "views": {"viewname": {"map": "function (doc) { if (doc.kind) emit(doc.kind, doc.n); }"}},
}


async def run():
    async with Database(f"wallaby-example-{uuid.uuid4().hex[:8]}", url=URL) as db:
        await db.create()
        try:
            await db.save(DESIGN)
            await db.save(
                {
                    "docs": [
                        {"kind": "fruit", "n": 1},
                        {"kind": "fruit", "n": 2},
                        {"kind": "vegetable", "n": 3},
                        {"kind": "nut", "n": 4},
                    ]
                }
            )

            # get all rows of view
            rows = await db.view("_design/designname/_view/viewname")
            print("all rows:", [(row["key"], row["value"]) for row in rows])

            # pass view arguments
            rows = await db.view("_design/designname/_view/viewname", count=100)
            print("count=100:", len(rows), "rows")

            rows = await db.view("_design/designname/_view/viewname", key="fruit")
            print("key='fruit':", [row["value"] for row in rows])

            rows = await db.view("_design/designname/_view/viewname", keys=["nut", "vegetable"])
            print("keys=[...]:", [row["key"] for row in rows])

            rows, total = await db.view("_design/designname/_view/viewname", count=2, include_count=True)
            print("count=2, include_count=True:", len(rows), "of", total)

            try:
                await db.view("_design/designname/_view/nosuchview")
            except ViewError as exc:
                print("missing view:", type(exc).__name__, exc.status, exc.reason)
        finally:
            await db.destroy()


asyncio.run(run())
