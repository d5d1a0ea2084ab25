"""A document's revision tree: every revision, its parent, and which leaf wins.

Rules kept here (couch_key_tree.erl and couch_doc.erl, checked against CouchDB 3.5):

- A revision is ``(pos, id)``; its parent is ``(pos - 1, parent id)``. The tree
  is flat: each revision maps to ``[parent id or None, deleted, seq]``. A
  revision whose ancestors were stemmed (or never sent) is a root at any pos.
- A leaf is a revision no other revision names as its parent.
- The winner is the greatest leaf by (not deleted, pos, id as bytes): a live
  leaf beats a deleted one, then the longest path, then the greater id.
  ``sorted_leaves`` lists the leaves in that order, winner first; ``_conflicts``
  are the live leaves after it, ``_deleted_conflicts`` the deleted ones.
- Merging a path (``new_edits=false``) adds the revisions the tree lacks and
  joins a root to its parent when the path names it, all along the path. A
  revision already there keeps the parent it has (CouchDB would keep a second
  copy of it under the other parent: only a broken replicator sends that).
- Stemming to ``revs_limit`` keeps a revision only when some leaf is less than
  ``limit`` steps below it (CouchDB 3's ``stem``); a kept revision whose parent
  is dropped becomes a root.
- Purging removes leaves, then every revision no remaining leaf descends from.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from .revs import Rev, id_bytes

__all__ = ["RevTree", "NEW_BRANCH", "NEW_LEAF", "EXISTS"]

EXISTS = "exists"
NEW_LEAF = "new_leaf"
NEW_BRANCH = "new_branch"

# node fields
_PARENT = 0
_DELETED = 1
_SEQ = 2


def _order(rev: Rev) -> tuple[int, bytes]:
    return rev[0], id_bytes(rev[1])


class RevTree:
    """The revisions of one document."""

    __slots__ = ("nodes",)

    def __init__(self, nodes: dict[Rev, list[Any]] | None = None) -> None:
        self.nodes: dict[Rev, list[Any]] = {} if nodes is None else nodes

    # --- storage -------------------------------------------------------------------

    @classmethod
    def decode(cls, blob: bytes) -> RevTree:
        return cls({(pos, rid): [parent, bool(deleted), seq] for pos, rid, parent, deleted, seq in orjson.loads(blob)})

    def encode(self) -> bytes:
        return orjson.dumps(
            [
                [pos, rid, node[_PARENT], 1 if node[_DELETED] else 0, node[_SEQ]]
                for (pos, rid), node in self.nodes.items()
            ]
        )

    @classmethod
    def single(cls, rev: Rev, deleted: bool, seq: int, parent: str | None = None) -> RevTree:
        return cls({rev: [parent, deleted, seq]})

    def copy(self) -> RevTree:
        return RevTree({rev: list(node) for rev, node in self.nodes.items()})

    # --- reading -------------------------------------------------------------------

    def __contains__(self, rev: object) -> bool:
        return rev in self.nodes

    def __len__(self) -> int:
        return len(self.nodes)

    def parent(self, rev: Rev) -> Rev | None:
        parent = self.nodes[rev][_PARENT]
        return None if parent is None else (rev[0] - 1, parent)

    def deleted(self, rev: Rev) -> bool:
        return bool(self.nodes[rev][_DELETED])

    def seq(self, rev: Rev) -> int:
        return int(self.nodes[rev][_SEQ])

    def _parents(self) -> set[Rev]:
        return {(pos - 1, node[_PARENT]) for (pos, _), node in self.nodes.items() if node[_PARENT] is not None}

    def leaves(self) -> list[Rev]:
        """Every leaf, in ascending (pos, id) order."""
        if len(self.nodes) == 1:
            return list(self.nodes)
        parents = self._parents()
        return sorted((rev for rev in self.nodes if rev not in parents), key=_order)

    def is_leaf(self, rev: Rev) -> bool:
        if rev not in self.nodes:
            return False
        pos, rid = rev
        return not any(p == pos + 1 and node[_PARENT] == rid for (p, _), node in self.nodes.items())

    def sorted_leaves(self) -> list[Rev]:
        """The leaves in CouchDB's doc_info order: the winner first."""
        nodes = self.nodes
        if len(nodes) == 1:
            return list(nodes)
        parents = self._parents()
        leaves = [rev for rev in nodes if rev not in parents]
        leaves.sort(key=lambda rev: (not nodes[rev][_DELETED], rev[0], id_bytes(rev[1])), reverse=True)
        return leaves

    def winner(self) -> Rev:
        if len(self.nodes) == 1:
            return next(iter(self.nodes))
        return self.sorted_leaves()[0]

    def conflicts(self, leaves: list[Rev] | None = None) -> tuple[list[Rev], list[Rev]]:
        """(live leaves that lost, deleted leaves that lost), in doc_info order."""
        ordered = self.sorted_leaves() if leaves is None else leaves
        live = [rev for rev in ordered[1:] if not self.nodes[rev][_DELETED]]
        dead = [rev for rev in ordered[1:] if self.nodes[rev][_DELETED]]
        return live, dead

    def path(self, rev: Rev) -> list[Rev]:
        """``rev`` and its ancestors in the tree, newest first."""
        nodes = self.nodes
        found = [rev]
        pos, parent = rev[0], nodes[rev][_PARENT]
        while parent is not None:
            pos -= 1
            key = (pos, parent)
            node = nodes.get(key)
            if node is None:
                break
            found.append(key)
            parent = node[_PARENT]
        return found

    def leaves_under(self, rev: Rev) -> list[Rev]:
        """The leaves that descend from ``rev`` (``rev`` itself when it is a leaf): what ``latest`` answers."""
        return [leaf for leaf in self.leaves() if rev in self.path(leaf)]

    # --- writing -------------------------------------------------------------------

    def add(self, rev: Rev, parent: Rev | None, deleted: bool, seq: int) -> None:
        """A new revision as an interactive edit makes it: a child of ``parent`` (a leaf)."""
        self.nodes[rev] = [None if parent is None else parent[1], deleted, seq]

    def merge(self, pos: int, ids: list[str], deleted: bool, seq: int) -> str:
        """Merge the path ``ids`` (newest first, the first at ``pos``): EXISTS, NEW_LEAF or NEW_BRANCH.

        NEW_LEAF: the path extends a leaf (or starts the tree); NEW_BRANCH: it
        starts a branch elsewhere, a conflict.
        """
        nodes = self.nodes
        if (pos, ids[0]) in nodes:
            outcome = EXISTS
        elif not nodes:
            outcome = NEW_LEAF
        else:
            attach = next(((pos - i, rid) for i, rid in enumerate(ids) if (pos - i, rid) in nodes), None)
            outcome = NEW_LEAF if attach is not None and self.is_leaf(attach) else NEW_BRANCH
        for i, rid in enumerate(ids):
            key = (pos - i, rid)
            parent = ids[i + 1] if i + 1 < len(ids) else None
            node = nodes.get(key)
            if node is None:
                nodes[key] = [parent, deleted if i == 0 else False, seq]
            elif node[_PARENT] is None and parent is not None:
                node[_PARENT] = parent  # a stemmed root meets its ancestry again
            elif node[_PARENT] != parent:
                break  # a history other than the tree's (only a broken replicator sends one)
        return outcome

    def stem(self, limit: int) -> list[Rev]:
        """Drop what lies ``limit`` or more revisions above every leaf; return what was dropped."""
        nodes = self.nodes
        if len(nodes) <= limit:
            return []
        reach: dict[Rev, int] = {}  # revision -> most steps left to walk up from it
        for leaf in self.leaves():
            left, rev = limit - 1, leaf
            while True:
                if reach.get(rev, -1) >= left:
                    break
                reach[rev] = left
                parent = nodes[rev][_PARENT]
                if left == 0 or parent is None:
                    break
                left, rev = left - 1, (rev[0] - 1, parent)
                if rev not in nodes:
                    break
        dropped = [rev for rev in nodes if rev not in reach]
        for rev in dropped:
            del nodes[rev]
        for (pos, _), node in nodes.items():
            if node[_PARENT] is not None and (pos - 1, node[_PARENT]) not in nodes:
                node[_PARENT] = None
        return dropped

    def remove_leaves(self, revs: Iterable[Rev]) -> tuple[list[Rev], list[Rev]]:
        """Purge these leaves: (the leaves purged, every revision removed)."""
        leaves = set(self.leaves())
        purged = [rev for rev in dict.fromkeys(revs) if rev in leaves]
        if not purged:
            return [], []
        keep: set[Rev] = set()
        for leaf in leaves.difference(purged):
            keep.update(self.path(leaf))
        removed = [rev for rev in self.nodes if rev not in keep]
        for rev in removed:
            del self.nodes[rev]
        return purged, removed
