"""Hand-over hooks of orders: what other parts of Tokui do when an order is confirmed or paid.

Orders sit below the pipeline (ARCHITECTURE rule 4), so they cannot call the pipeline's
referral rewards themselves; instead the orders' services run the callables registered here
*inside their transaction* (a hook that raises rolls the move back)::

    order_confirmed_hooks  ← order_confirm (tokui.orders.orders)
    order_paid_hooks       ← the last payment of an order's invoices (tokui.orders.invoices)

Each hook is ``hook(order, actor)`` (``actor`` may be None for moves made by the system) and
must be idempotent: a retried move may run it again. Registered at start-up:

* orders (tokui/orders/apps.py): ``rebate_on_order_confirmed`` — the order's subtotal counts
  into the account's accruing rebate programmes (source ``order:<id>``, on ``ordered_on``);
* pipeline (tokui/pipeline/apps.py): the referral rewards of a paid order.
"""

from collections.abc import Callable

from tokui.orders.models import Order
from tokui.pricing.rebates import rebate_accrue_for_account
from tokui.users.models import User

OrderHook = Callable[[Order, User | None], None]


class OrderHooks:
    """A named list of hooks; registering the same callable twice keeps one."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._hooks: list[OrderHook] = []

    def register(self, hook: OrderHook) -> OrderHook:
        if hook not in self._hooks:
            self._hooks.append(hook)
        return hook

    def unregister(self, hook: OrderHook) -> None:
        if hook in self._hooks:
            self._hooks.remove(hook)

    def run(self, order: Order, actor: User | None) -> None:
        for hook in list(self._hooks):
            hook(order, actor)

    def __contains__(self, hook: object) -> bool:
        return hook in self._hooks

    def __len__(self) -> int:
        return len(self._hooks)


order_confirmed_hooks = OrderHooks("order_confirmed")
order_paid_hooks = OrderHooks("order_paid")


def rebate_on_order_confirmed(order: Order, actor: User | None) -> None:
    """Count the confirmed order (net, before tax) into the account's rebate programmes;
    idempotent on the source ``order:<id>``."""
    rebate_accrue_for_account(
        order.account_id,
        order.ordered_on,
        order.subtotal,
        f"order:{order.pk}",
        currency=order.currency,
        description=order.number,
    )
