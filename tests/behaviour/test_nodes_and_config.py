"""Server: health, tasks, membership, cluster setup, node config and stats, _all_dbs paging.

PouchDB Server has no ``/_up``, ``/_node/...`` or ``/_scheduler`` (it reads
such paths as database names and answers 404), so those tests run only
against an Apache CouchDB (``COUCHDB_URL``); tests/unit/test_server_requests.py
checks their requests against the recorded CouchDB exchanges. No
configuration write is ever sent to PouchDB Server.

Configuration is per node. Behind a load balancer ``_local`` is whichever
node answers, so a test that writes config and reads it back names its node
(``/_node/{name}/...`` is forwarded to that node by any node). Test keys go
into the ``[couchdb]`` section, which every CouchDB's ini files already
have: CouchDB removes a deleted key's line from its ini file but never an
empty section, and the suite leaves the server as it found it.
"""

import uuid

import pytest

from wallaby.backends.couchdb.testing import free_port

pytestmark = pytest.mark.server_only("a server's nodes and configuration")

STATES = {"cluster_disabled", "single_node_disabled", "single_node_enabled", "cluster_enabled", "cluster_finished"}


def dead(couch):
    """A server nobody listens on: any request would fail with NetworkError."""
    return couch.server(f"http://127.0.0.1:{free_port()}")


# --- on both servers --------------------------------------------------------------


async def test_active_tasks_is_a_list(couch):
    tasks = await couch.server().active_tasks()
    assert isinstance(tasks, list)
    assert all(isinstance(task, dict) and "type" in task for task in tasks)


async def test_membership_lists_node_names(couch):
    members = await couch.server().membership()
    assert members["cluster_nodes"]
    for name in members["all_nodes"] + members["cluster_nodes"]:
        assert isinstance(name, str) and "@" in name


async def test_cluster_setup_gives_a_state(couch):
    result = await couch.server().cluster_setup()
    assert isinstance(result["state"], str) and result["state"]


async def test_all_dbs_refuses_an_unknown_option_before_any_request(couch):
    with pytest.raises(couch.module.InvalidArgument):
        await dead(couch).all_dbs(starkey="a")


@pytest.mark.parametrize(
    ("method", "args", "kwargs", "error"),
    [
        ("config", ("localhost",), {}, "InvalidArgument"),
        ("config", (), {"section": ""}, "InvalidArgument"),
        ("config", (), {"key": "level"}, "InvalidArgument"),
        ("set_config", ("log", "", "debug"), {}, "InvalidArgument"),
        ("set_config", ("log", "level", None), {}, "InvalidType"),
        ("delete_config", ("", "level"), {}, "InvalidArgument"),
        ("stats", (), {"path": "couchdb//request_time"}, "InvalidArgument"),
        ("system", (42,), {}, "InvalidType"),
        ("cluster_setup", ("make_it_so",), {}, "InvalidArgument"),
        ("cluster_setup", ("finish_cluster",), {"node_count": 3}, "InvalidArgument"),
        ("scheduler_jobs", (), {"limit": -1}, "InvalidArgument"),
        ("scheduler_docs", ("mine",), {}, "InvalidArgument"),
    ],
)
async def test_bad_node_arguments_are_refused_before_any_request(couch, method, args, kwargs, error):
    with pytest.raises(getattr(couch.module, error)):
        await getattr(dead(couch), method)(*args, **kwargs)


# --- _all_dbs paging (PouchDB Server ignores every option) ---------------------------


@pytest.mark.couchdb_only
async def test_all_dbs_descending_pages_backwards(couch):
    server = couch.server()
    prefix = couch.db_name("desc")
    names = [f"{prefix}-{suffix}" for suffix in ("a", "b", "c")]
    for name in names:
        await server.create(name)
    try:
        # on a cluster, the node that answers lists a new database a moment after another node made it
        page = await couch.eventually(
            lambda: server.all_dbs(descending=True, startkey=names[2], endkey=prefix, limit=2),
            until=lambda page: page == [names[2], names[1]],
        )
        assert page == [names[2], names[1]]
        rest = await server.all_dbs(descending=True, startkey=names[2], endkey=prefix, skip=2)
        assert rest == [names[0]]
        aliases = await server.all_dbs(start_key=names[1], end_key=names[2])
        assert aliases == names[1:]
    finally:
        for name in names:
            await server.delete(name)


# --- Apache CouchDB only -------------------------------------------------------------


@pytest.mark.couchdb_only
async def test_up_says_ok(couch):
    assert (await couch.server().up())["status"] == "ok"


async def a_node(server) -> str:
    """The name of the node that answers (``_local``); name it to reach that node again."""
    return (await server.node_info())["name"]


@pytest.mark.couchdb_only
async def test_node_info_names_the_node_and_a_named_node_answers_its_welcome(couch):
    server = couch.server()
    name = await a_node(server)
    assert "@" in name
    assert name in (await server.membership())["cluster_nodes"]
    welcome = await server.node_info(name)  # CouchDB answers GET / of that node here, not {"name"}
    assert welcome["couchdb"] == "Welcome" and "version" in welcome


@pytest.mark.couchdb_only
async def test_system_reports_the_erlang_vm(couch):
    system = await couch.server().system()
    assert isinstance(system["uptime"], int)
    assert isinstance(system["memory"], dict)


@pytest.mark.couchdb_only
async def test_stats_whole_and_narrowed(couch):
    server = couch.server()
    everything = await server.stats()
    assert "couchdb" in everything
    one = await server.stats(path="couchdb/request_time")
    assert one["type"] == "histogram" and "value" in one
    assert (await server.stats(path=("couchdb", "request_time")))["type"] == "histogram"


@pytest.mark.couchdb_only
async def test_an_unknown_stat_is_none(couch):
    # CouchDB answers 200 null for a stats path it has nothing at.
    assert await couch.server().stats(path="couchdb/no_such_metric_x") is None


@pytest.mark.couchdb_only
async def test_versions_names_erlang(couch):
    server = couch.server()
    major, minor = (int(part) for part in (await server.info())["version"].split(".")[:2])
    if (major, minor) < (3, 4):
        pytest.skip("/_node/{node}/_versions arrived in CouchDB 3.4")
    assert "erlang" in await server.versions()


@pytest.mark.couchdb_only
async def test_config_reads_all_a_section_and_a_key(couch):
    server = couch.server()
    name = await a_node(server)
    everything = await server.config(name)
    assert isinstance(everything["couchdb"], dict)
    section = await server.config(name, section="couchdb")
    assert section == everything["couchdb"]
    key, value = next(iter(section.items()))
    assert await server.config(name, "couchdb", key) == value
    # _local: the answering node's own value, whichever node of the cluster that is
    nodes = (await server.membership())["cluster_nodes"]
    values = {await server.config(node, "couchdb", key) for node in nodes}
    assert await server.config("_local", "couchdb", key) in values


@pytest.mark.couchdb_only
async def test_an_unset_config_key_is_not_found(couch):
    with pytest.raises(couch.module.NotFound):
        await couch.server().config(section="couchdb", key=f"unset_{uuid.uuid4().hex}")


@pytest.mark.couchdb_only
async def test_set_config_returns_the_old_value_and_delete_removes_it(couch):
    server = couch.server()
    node = await a_node(server)
    section, key = "couchdb", f"wallaby_test_{uuid.uuid4().hex[:8]}/slash"
    try:
        assert await server.set_config(section, key, "one", node) == ""
        assert await server.config(node, section, key) == "one"
        assert await server.set_config(section, key, 2, node) == "one"
        assert await server.config(node, section, key) == "2"
        assert await server.set_config(section, key, True, node) == "2"
        assert (await server.config(node, section))[key] == "true"
        assert await server.delete_config(section, key, node) == "true"
        with pytest.raises(couch.module.NotFound):
            await server.config(node, section, key)
    finally:
        try:
            await server.delete_config(section, key, node)
        except couch.module.NotFound:
            pass


@pytest.mark.couchdb_only
async def test_a_config_value_that_is_not_persisted_is_still_set(couch):
    server = couch.server()
    node = await a_node(server)
    section, key = "couchdb", f"wallaby_test_volatile_{uuid.uuid4().hex[:8]}"
    try:
        assert await server.set_config(section, key, "  padded  ", node, persist=False) == ""
        assert await server.config(node, section, key) == "padded"  # CouchDB trims it
    finally:
        assert await server.delete_config(section, key, node, persist=False) == "padded"


@pytest.mark.couchdb_only
async def test_deleting_an_unset_config_key_is_not_found(couch):
    with pytest.raises(couch.module.NotFound):
        await couch.server().delete_config("couchdb", f"wallaby_test_unset_{uuid.uuid4().hex}")


@pytest.mark.couchdb_only
async def test_cluster_setup_state_is_one_couchdb_names(couch):
    server = couch.server()
    assert (await server.cluster_setup())["state"] in STATES
    state = (await server.cluster_setup(ensure_dbs_exist=["_users"]))["state"]
    assert state in STATES


@pytest.mark.couchdb_only
async def test_scheduler_lists_jobs_and_docs(couch):
    server = couch.server()
    jobs = await server.scheduler_jobs(limit=5)
    assert isinstance(jobs["jobs"], list) and jobs["offset"] == 0
    docs = await server.scheduler_docs(limit=5, states=["running", "completed"])
    assert isinstance(docs["docs"], list)
    assert all(doc["state"] in ("running", "completed") for doc in docs["docs"])


@pytest.mark.couchdb_only
async def test_an_unknown_scheduler_job_is_not_found(couch):
    with pytest.raises(couch.module.NotFound):
        await couch.server().scheduler_job("nope")


@pytest.mark.couchdb_only
async def test_node_endpoints_need_an_admin(couch):
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(couch.url)
    anonymous = couch.server(urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", "")))
    with pytest.raises(couch.module.Unauthorized):
        await anonymous.config(section="couchdb")
    with pytest.raises(couch.module.Unauthorized):
        await anonymous.set_config("couchdb", "max_document_size", "1")
