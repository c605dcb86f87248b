"""A small honest family for gate and pipeline tests, and deliberately broken variants of it.

Not registered globally: the gate takes a family object, so tests can pass these directly.
"""

from __future__ import annotations

import random

from synthgym.envs.family import Agent, Family
from synthgym.envs.model import Plan, Task, TaskDraft, ToolCall
from synthgym.envs.tools import PAGE, ToolBox, ToolError, integer, paginate, string

tools = ToolBox()


@tools.read("List warehouse item ids, 5 per page.", {"page": PAGE})
def list_items(db, page=1):
    return paginate(sorted(db["items"]), page, 5)


@tools.read("Get one item's price and stock by id.", {"item_id": string()}, required=("item_id",))
def get_item(db, item_id):
    item = db["items"].get(item_id)
    if item is None:
        raise ToolError(f"unknown item id {item_id!r}")
    return {"item_id": item_id, **item}


@tools.write("Reserve a quantity of an item.", {"item_id": string(), "quantity": integer(minimum=1)}, required=("item_id", "quantity"))
def reserve(db, item_id, quantity):
    item = db["items"].get(item_id)
    if item is None:
        raise ToolError(f"unknown item id {item_id!r}")
    if item["stock"] < quantity:
        raise ToolError("not enough stock")
    item["stock"] -= quantity
    db["reserved"][item_id] = db["reserved"].get(item_id, 0) + quantity
    return {"ok": True}


class ToyFamily(Family):
    """Find the cheapest item with stock >= q among the first 15, reserve q of it, answer its id and cost."""

    name = "toy"
    version = "1"
    toolbox = tools
    min_reference_calls = {level: 3 for level in range(1, 6)}

    def build_database(self, rng: random.Random) -> dict:
        items = {f"IT-{i:03d}": {"price": rng.randint(5, 500), "stock": rng.randint(0, 9)} for i in range(15)}
        return {"items": items, "reserved": {}}

    def draft_task(self, db: dict, level: int, rng: random.Random) -> TaskDraft:
        quantity = rng.randint(2, 4)
        eligible = sorted((v["price"], k) for k, v in db["items"].items() if v["stock"] >= quantity)
        price, item_id = eligible[0]
        spec = {
            "constraints": [
                {"id": "item", "text": "the cheapest item with enough stock"},
                {"id": "cost", "text": "the total cost"},
                {"id": "reserved", "text": "exactly that reservation was made"},
            ],
            "item_id": item_id,
            "quantity": quantity,
            "cost": price * quantity,
        }
        schema = {
            "type": "object",
            "properties": {"item_id": {"type": "string"}, "cost": {"type": "integer"}},
            "required": ["item_id", "cost"],
            "additionalProperties": False,
        }
        text = f"Reserve {quantity} units of the cheapest item that has at least {quantity} in stock, and report its id and the total cost."
        return TaskDraft(text, tools.names(), spec, schema, 40)

    def judge(self, spec, answer, final_db, initial_db):
        return {
            "item": answer["item_id"] == spec["item_id"],
            "cost": answer["cost"] == spec["cost"],
            "reserved": final_db["reserved"] == {spec["item_id"]: spec["quantity"]},
        }

    def reference(self, task: Task, agent: Agent):
        q = task.spec["quantity"]
        best = None
        page, pages = 1, 1
        while page <= pages:
            listing = agent.call("list_items", page=page)
            pages = listing["pages"]
            for item_id in listing["items"]:
                item = agent.call("get_item", item_id=item_id)
                if item["stock"] >= q and (best is None or item["price"] < best["price"]):
                    best = item
            page += 1
        agent.call("reserve", item_id=best["item_id"], quantity=q)
        return {"item_id": best["item_id"], "cost": best["price"] * q}

    def greedy(self, task: Task, agent: Agent, rng: random.Random):
        first = agent.call("list_items", page=1)["items"][0]
        item = agent.call("get_item", item_id=first)
        agent.call("reserve", item_id=first, quantity=task.spec["quantity"])
        return {"item_id": first, "cost": item["price"] * task.spec["quantity"]}

    def mutations(self, task: Task, reference: Plan, db: dict):
        spec = task.spec
        other = next(k for k in sorted(db["items"]) if k != spec["item_id"])
        calls = reference.calls
        return [
            ("item", Plan(calls, {**reference.answer, "item_id": other})),
            ("cost", Plan(calls, {**reference.answer, "cost": spec["cost"] + 1})),
            ("reserved", Plan(calls[:-1], reference.answer)),
        ]

    def solutions(self, task: Task, db: dict):
        q = task.spec["quantity"]
        price, item_id = min((v["price"], k) for k, v in db["items"].items() if v["stock"] >= q)
        return [Plan((ToolCall("reserve", {"item_id": item_id, "quantity": q}),), {"item_id": item_id, "cost": price * q})]
