"""An app's own code, which the tests beside it exercise: orders kept in CouchDB."""

from __future__ import annotations

from typing import Any


async def place_order(db: Any, order_id: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """Save an order with its total; works with a Database of either flavour, awaited."""
    order = {"_id": order_id, "type": "order", "lines": lines, "total": sum(line["price"] for line in lines)}
    await db.save(order)
    return order
