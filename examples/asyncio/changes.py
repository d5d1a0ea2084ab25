"""Changes feeds: the seed's example, for asyncio.

``changes(cb=...)`` registers a callback for a filter (or a view); every
callback registered with the same arguments shares one continuous feed.
``unchanges(cb=...)`` takes the callback off again. ``changes`` and
``unchanges`` are plain calls (not coroutines), as in the seed, but must be
made while the event loop runs.
"""

import asyncio
import os
import uuid

from wallaby.backends.couchdb.aio import Database

URL = os.environ.get("COUCHDB_URL", "http://localhost:5984")

DESIGN = {
    "_id": "_design/couchappdoc",
    "filters": {"all": "function (doc, req) { return true; }"},
    "views": {"viewname": {"map": "function (doc) { if (doc.type === 'note') emit(doc._id, null); }"}},
}


async def run():
    async with Database(f"wallaby-example-{uuid.uuid4().hex[:8]}", url=URL) as db:
        await db.create()
        try:
            await db.save(DESIGN)
            since = (await db.info())["update_seq"]  # only changes after this point

            seen = {None: [], "couchappdoc/viewname": []}
            done = asyncio.Event()

            def callback(changes, viewID=None):
                # all changes are passed to this callback as a list. the viewID helps
                # to identify view-based changes
                for change in changes:
                    print(f"viewID={viewID}: {change['id']} (seq {change['seq']})")
                    seen[viewID].append(change["id"])
                if len(seen[None]) >= 3 and len(seen["couchappdoc/viewname"]) >= 2:
                    done.set()

            # register callback function for filtered changes
            db.changes(cb=callback, since=since, filter="couchappdoc/all")

            # register callback function for view changes
            db.changes(cb=callback, since=since, filter="_view", view="couchappdoc/viewname")

            # three writes: every one passes the filter, two of them are in the view
            await db.save({"_id": "note-1", "type": "note"})
            await db.save({"_id": "todo-1", "type": "todo"})
            await db.save({"_id": "note-2", "type": "note"})

            await asyncio.wait_for(done.wait(), 30)

            # unregister first callback
            db.unchanges(cb=callback, since=since, filter="couchappdoc/all")

            # unregister second callback
            db.unchanges(cb=callback, since=since, filter="_view", view="couchappdoc/viewname")
            print("filtered feed saw", seen[None], "and the view feed", seen["couchappdoc/viewname"])
        finally:
            await db.destroy()


asyncio.run(run())
