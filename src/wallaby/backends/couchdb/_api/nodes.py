"""Nodes and the cluster they form: health, tasks, membership, setup, config, stats.

Rules kept here:

- ``node`` is ``"_local"`` (the node that answers) or an Erlang node name,
  which always holds an ``@`` (``couchdb@127.0.0.1``); anything else is
  refused before sending.
- A config section or key, and each part of a stats path, becomes one path
  segment (``/`` and every other reserved character percent-encoded; CouchDB
  decodes each segment after splitting the path). An empty one is refused: it
  would name the level above.
- CouchDB's configuration holds strings only. ``set_config`` sends the value
  as a JSON string (a bool becomes ``"true"``/``"false"``, a number its
  decimal text); ``PUT`` and ``DELETE`` answer with the value they replaced.
- ``/_cluster_setup`` actions take only the fields CouchDB reads for that
  action; any other field is refused, since CouchDB would drop it silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .._core.checks import flag, refuse_unknown, text
from .._core.client import Resource
from .._core.errors import InvalidArgument, InvalidType
from .._core.json import JSON_TYPE, dumps
from .._core.params import Options
from .._core.urls import segment

__all__ = ["Nodes", "node_path", "config_path", "config_key_path", "config_value", "stats_path", "CLUSTER_SETUP_FIELDS"]

# action -> the body fields CouchDB's setup handler reads for it
CLUSTER_SETUP_FIELDS: Mapping[str, frozenset[str]] = {
    "enable_single_node": frozenset(
        {"username", "password", "password_hash", "bind_address", "port", "ensure_dbs_exist"}
    ),
    "enable_cluster": frozenset(
        {
            "username",
            "password",
            "password_hash",
            "bind_address",
            "port",
            "node_count",
            "remote_node",
            "remote_current_user",
            "remote_current_password",
        }
    ),
    "add_node": frozenset({"username", "password", "host", "port", "name"}),
    "finish_cluster": frozenset({"ensure_dbs_exist"}),
    "receive_cookie": frozenset({"cookie"}),
}


def node_path(node: object = "_local") -> str:
    """``/_node/{node}``: ``_local`` or a node name such as ``couchdb@127.0.0.1``."""
    if isinstance(node, str) and node != "_local" and "@" not in node:
        raise InvalidArgument(f"node must be '_local' or a node name like 'couchdb@127.0.0.1', not {node!r}")
    return "/_node/" + segment(node, "node")


def config_path(node: object = "_local", section: object = None, key: object = None) -> str:
    """``/_node/{node}/_config[/{section}[/{key}]]``."""
    path = node_path(node) + "/_config"
    if section is None:
        if key is not None:
            raise InvalidArgument("a config key needs its section")
        return path
    path += "/" + segment(section, "config section")
    if key is not None:
        path += "/" + segment(key, "config key")
    return path


def config_key_path(node: object, section: object, key: object) -> str:
    """``/_node/{node}/_config/{section}/{key}``: both named, neither empty."""
    return f"{node_path(node)}/_config/{segment(section, 'config section')}/{segment(key, 'config key')}"


def config_value(value: object) -> str:
    """The string CouchDB stores for ``value``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    raise InvalidType(f"a config value must be a str, bool or number, not {type(value).__name__}")


def stats_path(node: object = "_local", path: str | Iterable[str] = ()) -> str:
    """``/_node/{node}/_stats[/{group}/{metric}...]``; ``path`` as ``"a/b"`` or ``("a", "b")``."""
    if isinstance(path, str):
        parts: list[object] = list(path.split("/")) if path else []
    elif isinstance(path, (list, tuple)):
        parts = list(path)
    else:
        raise InvalidType(f"a stats path must be a str or a sequence of str, not {type(path).__name__}")
    return node_path(node) + "/_stats" + "".join("/" + segment(part, "stats path part") for part in parts)


_CLUSTER_STATE = Options("cluster_setup", json=("ensure_dbs_exist",))


def _check_db_names(value: object, what: str) -> list[str]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(name, str) and name for name in value):
        raise InvalidType(f"{what} must be a list of database names")
    return list(value)


class Nodes(Resource):
    async def up(self) -> dict[str, Any]:
        """``GET /_up``: ``{"status": "ok", ...}`` while the node serves requests.

        A node in maintenance mode answers 404 (raised as ``NotFound``), so a
        load balancer can take it out. PouchDB Server has no ``/_up``.
        """
        return await self._client.json_dict("GET", "/_up")

    async def active_tasks(self) -> list[dict[str, Any]]:
        """``GET /_active_tasks``: running compactions, indexers and replications."""
        return await self._client.json_list("GET", "/_active_tasks")

    async def membership(self) -> dict[str, Any]:
        """``GET /_membership``: ``all_nodes`` this node knows and the ``cluster_nodes``."""
        return await self._client.json_dict("GET", "/_membership")

    async def cluster_setup(self, action: str | None = None, **fields: Any) -> dict[str, Any]:
        """``GET /_cluster_setup`` without an action, ``POST /_cluster_setup`` with one.

        ``cluster_setup()`` gives ``{"state": ...}`` (``cluster_disabled``,
        ``single_node_disabled``, ``single_node_enabled``, ``cluster_enabled``
        or ``cluster_finished``); ``ensure_dbs_exist=[...]`` names the system
        databases the state accounts for. ``cluster_setup(action, **fields)``
        runs ``enable_single_node``, ``enable_cluster``, ``add_node``,
        ``finish_cluster`` or ``receive_cookie`` with that action's fields.
        """
        if action is None:
            _CLUSTER_STATE.check(fields)
            if "ensure_dbs_exist" in fields:
                _check_db_names(fields["ensure_dbs_exist"], "ensure_dbs_exist")
            return await self._client.json_dict("GET", "/_cluster_setup", _CLUSTER_STATE.query(fields))
        known = CLUSTER_SETUP_FIELDS.get(text(action, "action"))
        if known is None:
            raise InvalidArgument(f"unknown cluster_setup action {action!r}: one of {', '.join(CLUSTER_SETUP_FIELDS)}")
        refuse_unknown(fields, known, f"{action} field")
        if "ensure_dbs_exist" in fields:
            _check_db_names(fields["ensure_dbs_exist"], "ensure_dbs_exist")
        return await self._client.json_dict("POST", "/_cluster_setup", "", {"action": action, **fields})

    async def node_info(self, node: str = "_local") -> dict[str, Any]:
        """``GET /_node/{node}``: ``{"name": ...}`` of the node that answers, for ``_local``.

        For a named node CouchDB answers that node's welcome object instead
        (``{"couchdb": "Welcome", "version": ...}``, as ``GET /`` on it).
        Behind a load balancer the node that answers ``_local`` may be another
        at each request: name a node to reach the same one again.
        """
        return await self._client.json_dict("GET", node_path(node))

    async def system(self, node: str = "_local") -> dict[str, Any]:
        """``GET /_node/{node}/_system``: the Erlang VM's memory, queues and counters."""
        return await self._client.json_dict("GET", node_path(node) + "/_system")

    async def versions(self, node: str = "_local") -> dict[str, Any]:
        """``GET /_node/{node}/_versions``: Erlang, JavaScript engine and collation versions."""
        return await self._client.json_dict("GET", node_path(node) + "/_versions")

    async def stats(self, node: str = "_local", path: str | Iterable[str] = ()) -> Any:
        """``GET /_node/{node}/_stats[/{group}/{metric}]``: the node's statistics.

        ``path`` narrows it: ``"couchdb/request_time"`` or
        ``("couchdb", "request_time")``. CouchDB answers ``null`` (None) for
        a path it has no statistic at.
        """
        return await self._client.json("GET", stats_path(node, path))

    async def config(self, node: str = "_local", section: str | None = None, key: str | None = None) -> Any:
        """``GET /_node/{node}/_config[/{section}[/{key}]]``: the node's configuration.

        Every section as a dict of dicts, one section as a dict, or one value
        (always a str). An unset key raises ``NotFound``.
        """
        return await self._client.json("GET", config_path(node, section, key))

    async def set_config(
        self, section: str, key: str, value: Any, node: str = "_local", *, persist: bool = True
    ) -> str:
        """``PUT /_node/{node}/_config/{section}/{key}``: set a value; returns the old one (``""`` if unset).

        CouchDB trims the value and writes it to its ini file, unless
        ``persist=False`` (sent as ``X-Couch-Persist: false``): then the
        value lasts until the node restarts or reloads its config.
        """
        path = config_key_path(node, section, key)
        body = dumps(config_value(value))
        return await self._config_write("PUT", path, body, persist)

    async def delete_config(self, section: str, key: str, node: str = "_local", *, persist: bool = True) -> str:
        """``DELETE /_node/{node}/_config/{section}/{key}``: remove a value; returns it.

        A key that is not set raises ``NotFound``. ``persist=False`` leaves
        the ini file as it is.
        """
        return await self._config_write("DELETE", config_key_path(node, section, key), None, persist)

    async def _config_write(self, method: str, path: str, body: bytes | None, persist: bool) -> str:
        headers = None if flag(persist, "persist") else {"X-Couch-Persist": "false"}
        content_type = None if body is None else JSON_TYPE
        old = await self._client.json(method, path, data=body, content_type=content_type, headers=headers)
        return old if isinstance(old, str) else ""

    async def reload_config(self, node: str = "_local") -> dict[str, Any]:
        """``POST /_node/{node}/_config/_reload``: re-read the node's ini files."""
        return await self._client.json_dict("POST", config_path(node) + "/_reload")
