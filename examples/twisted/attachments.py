"""Attachment handling: the seed's example, fixed (Twisted).

    python examples/twisted/attachments.py [some.png]

The seed passed ``content-type='image/png'``, which is not a Python keyword
argument; it is ``contentType=`` (or ``content_type=``).
"""

import base64
import os
import sys
import uuid

from twisted.internet import defer, task

from wallaby.backends.couchdb import Database, NotFound

URL = os.environ.get("COUCHDB_URL", "http://localhost:5984")

# a 1x1 PNG, used when no file is given
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@defer.inlineCallbacks
def run(reactor):
    db = Database(f"wallaby-example-{uuid.uuid4().hex[:8]}", url=URL)
    yield db.create()
    try:
        doc = {"_id": "newdocid"}
        yield db.save(doc)

        # First we load a file to attach. In real life you should do this in an
        # async manner (or in a thread).
        if len(sys.argv) > 1:
            with open(sys.argv[1], "rb") as f:
                content = f.read()
        else:
            content = TINY_PNG

        # Now we can attach this file to an existing document; doc["_rev"] is updated
        res = yield db.put_attachment(doc, "newimage.png", content, contentType="image/png")
        print("put_attachment:", res)

        # And load from database again (bytes)
        loaded = yield db.get_attachment(doc, "newimage.png")
        print("get_attachment:", len(loaded), "bytes, same:", loaded == content)

        # and finally delete it
        res = yield db.delete_attachment(doc, "newimage.png")
        print("delete_attachment:", res)

        try:
            yield db.get_attachment(doc, "newimage.png")
        except NotFound as exc:
            print("get_attachment after delete:", exc.status, exc.reason)
    finally:
        yield db.destroy()
        yield db.close()


task.react(run)
