"""The revision tree: leaves, the winner, merging, stemming and purging, as couch_key_tree does them."""

from hypothesis import given, settings, strategies as st

from wallaby.backends.couchdb._store.revs import id_bytes
from wallaby.backends.couchdb._store.revtree import EXISTS, NEW_BRANCH, NEW_LEAF, RevTree


def chain(*ids, start=1, deleted_leaf=False):
    tree = RevTree()
    parent = None
    for offset, rid in enumerate(ids):
        rev = (start + offset, rid)
        tree.add(rev, parent, deleted_leaf and offset == len(ids) - 1, start + offset)
        parent = rev
    return tree


def test_a_linear_history_has_one_leaf_and_it_wins():
    tree = chain("a", "b", "c")
    assert tree.leaves() == [(3, "c")]
    assert tree.winner() == (3, "c")
    assert tree.path((3, "c")) == [(3, "c"), (2, "b"), (1, "a")]
    assert tree.conflicts() == ([], [])


def test_a_live_leaf_beats_a_longer_deleted_one():
    tree = chain("a", "b", "c", deleted_leaf=True)
    tree.add((2, "x"), (1, "a"), False, 9)
    assert tree.winner() == (2, "x")
    assert tree.conflicts() == ([], [(3, "c")])


def test_among_live_leaves_the_longer_path_wins_then_the_greater_id_as_bytes():
    tree = chain("a", "b")
    tree.add((2, "c"), (1, "a"), False, 3)
    assert tree.winner() == (2, "c")
    tree.add((3, "0"), (2, "b"), False, 4)
    assert tree.winner() == (3, "0")
    # "f..."*32 is the bytes ff.., greater than the text "zz" (b"zz" = 7a7a)
    hexed = RevTree()
    hexed.add((1, "zz"), None, False, 1)
    hexed.add((1, "f" * 32), None, False, 2)
    assert hexed.winner() == (1, "f" * 32)


def test_sorted_leaves_put_the_winner_first_then_the_rest_in_the_same_order():
    tree = RevTree()
    for rid in ("b", "d", "c"):
        tree.add((1, rid), None, False, 1)
    tree.add((1, "z"), None, True, 1)
    assert tree.sorted_leaves() == [(1, "d"), (1, "c"), (1, "b"), (1, "z")]
    assert tree.conflicts() == ([(1, "c"), (1, "b")], [(1, "z")])


def test_merging_a_path_adds_what_is_missing():
    tree = chain("a", "b")
    assert tree.merge(4, ["d", "c", "b", "a"], False, 5) == NEW_LEAF
    assert tree.leaves() == [(4, "d")]
    assert tree.merge(4, ["d", "c"], False, 6) == EXISTS
    assert tree.merge(3, ["x", "b"], False, 7) == NEW_BRANCH
    assert tree.leaves() == [(3, "x"), (4, "d")]


def test_a_stemmed_root_meets_its_ancestry_again():
    tree = RevTree()
    tree.merge(3, ["c"], False, 1)
    assert tree.parent((3, "c")) is None
    tree.merge(3, ["c", "b", "a"], False, 2)
    assert tree.path((3, "c")) == [(3, "c"), (2, "b"), (1, "a")]


def test_stemming_keeps_what_a_leaf_reaches_within_the_limit():
    tree = chain("a", "b", "c", "d", "e")
    dropped = tree.stem(3)
    assert sorted(dropped) == [(1, "a"), (2, "b")]
    assert tree.path((5, "e")) == [(5, "e"), (4, "d"), (3, "c")]
    assert tree.parent((3, "c")) is None


def test_stemming_keeps_a_shared_ancestor_a_short_branch_still_reaches():
    # CouchDB 3's stem: a revision stays when some leaf is less than `limit` below it
    tree = chain("a", "b", "c")
    tree.merge(5, ["f", "e", "d", "b", "a"], False, 9)
    assert tree.stem(3) == []
    assert tree.path((5, "f")) == [(5, "f"), (4, "e"), (3, "d"), (2, "b"), (1, "a")]


def test_purging_a_leaf_removes_what_only_it_had():
    tree = chain("a", "b", "c")
    tree.add((2, "x"), (1, "a"), False, 4)
    purged, removed = tree.remove_leaves([(3, "c"), (9, "nope")])
    assert purged == [(3, "c")]
    assert sorted(removed) == [(2, "b"), (3, "c")]
    assert tree.leaves() == [(2, "x")]
    assert tree.remove_leaves([(1, "a")]) == ([], [])  # not a leaf: nothing


def test_a_tree_survives_encoding():
    tree = chain("a", "b", deleted_leaf=True)
    tree.add((2, "é"), (1, "a"), False, 7)
    again = RevTree.decode(tree.encode())
    assert again.nodes == tree.nodes


# --- properties ------------------------------------------------------------------------------

ids = st.text(alphabet="abcdef0123", min_size=1, max_size=3)


@st.composite
def histories(draw):
    """A tree grown by random edits, as replication makes them: paths merged in any order."""
    tree = RevTree()
    paths = []
    for _ in range(draw(st.integers(1, 8))):
        length = draw(st.integers(1, 5))
        path = draw(st.lists(ids, min_size=length, max_size=length))
        if paths and draw(st.booleans()):
            base = draw(st.sampled_from(paths))
            cut = draw(st.integers(1, len(base)))
            path = path + base[-cut:]
        pos = len(path)
        tree.merge(pos, path, draw(st.booleans()), 1)
        paths.append(path)
    return tree


@given(histories())
@settings(max_examples=200, deadline=None)
def test_the_winner_is_the_greatest_leaf_by_couchdbs_rule(tree):
    leaves = tree.leaves()
    best = max(leaves, key=lambda rev: (not tree.deleted(rev), rev[0], id_bytes(rev[1])))
    assert tree.winner() == best
    assert tree.sorted_leaves()[0] == best
    assert set(tree.sorted_leaves()) == set(leaves)
    live, dead = tree.conflicts()
    assert set(live) | set(dead) == set(leaves) - {best}


@given(histories(), st.integers(1, 4))
@settings(max_examples=200, deadline=None)
def test_stemming_never_drops_a_leaf_and_bounds_every_nodes_distance_to_a_leaf(tree, limit):
    leaves = set(tree.leaves())
    tree.stem(limit)
    assert set(tree.leaves()) == leaves
    for rev in tree.nodes:
        nearest = min(
            (leaf[0] - rev[0] for leaf in leaves if rev in tree.path(leaf)),
            default=None,
        )
        assert nearest is not None and nearest < limit


@given(histories())
@settings(max_examples=100, deadline=None)
def test_purging_every_leaf_leaves_nothing(tree):
    purged, _ = tree.remove_leaves(tree.leaves())
    assert purged and not tree.nodes
