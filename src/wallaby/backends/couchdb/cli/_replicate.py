"""``replicate``: copy one database into another (the client-side replicator, once it lands)."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
