"""Changes feeds: the seed's example, fixed (Twisted).

``changes(cb=...)`` registers a callback for a filter (or a view); every
callback registered with the same arguments shares one continuous feed.
``unchanges(cb=...)`` takes the callback off again (the seed's page forgot the
``cb``, and called ``changes`` where it meant ``unchanges``).
"""

import os
import uuid

from twisted.internet import defer, task

from wallaby.backends.couchdb import Database

URL = os.environ.get("COUCHDB_URL", "http://localhost:5984")

DESIGN = {
    "_id": "_design/couchappdoc",
    "filters": {"all": "function (doc, req) { return true; }"},
    "views": {"viewname": {"map": "function (doc) { if (doc.type === 'note') emit(doc._id, null); }"}},
}


@defer.inlineCallbacks
def run(reactor):
    db = Database(f"wallaby-example-{uuid.uuid4().hex[:8]}", url=URL)
    yield db.create()
    try:
        yield db.save(DESIGN)
        since = (yield db.info())["update_seq"]  # only changes after this point

        seen = {None: [], "couchappdoc/viewname": []}
        done = defer.Deferred()

        def callback(changes, viewID=None):
            # all changes are passed to this callback as a list. the viewID helps
            # to identify view-based changes
            for change in changes:
                print(f"viewID={viewID}: {change['id']} (seq {change['seq']})")
                seen[viewID].append(change["id"])
            if len(seen[None]) >= 3 and len(seen["couchappdoc/viewname"]) >= 2 and not done.called:
                done.callback(None)

        # register callback function for filtered changes
        db.changes(cb=callback, since=since, filter="couchappdoc/all")

        # register callback function for view changes
        db.changes(cb=callback, since=since, filter="_view", view="couchappdoc/viewname")

        # three writes: every one passes the filter, two of them are in the view
        yield db.save({"_id": "note-1", "type": "note"})
        yield db.save({"_id": "todo-1", "type": "todo"})
        yield db.save({"_id": "note-2", "type": "note"})

        done.addTimeout(30, reactor)
        yield done

        # unregister first callback
        db.unchanges(cb=callback, since=since, filter="couchappdoc/all")

        # unregister second callback
        db.unchanges(cb=callback, since=since, filter="_view", view="couchappdoc/viewname")
        print("filtered feed saw", seen[None], "and the view feed", seen["couchappdoc/viewname"])
    finally:
        yield db.destroy()
        yield db.close()


task.react(run)
