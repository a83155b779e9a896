"""Adagrad (Duchi et al., 2011): per-coordinate rates that shrink with the sum of squared gradients."""

from minidl.optim.optimizer import Optimizer, check_nonnegative, with_weight_decay


class Adagrad(Optimizer):
    """Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10).

    Per parameter p with gradient g, at step t (PyTorch's formulas):
        g ← g + weight_decay · p
        clr = lr / (1 + (t - 1) · lr_decay)
        s ← s + g²                                    (s starts at initial_accumulator_value)
        p ← p - clr · g / (sqrt(s) + eps)

    State per parameter: "step", "sum" (s).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group, where):
        for key in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_nonnegative(group, key, where, "Adagrad")

    def _init_state(self, p, state, group):
        state["step"] = 0
        state["sum"] = p.backend.xp.full_like(p.data, group["initial_accumulator_value"])

    def _update(self, p, grad, state, group):
        xp = p.backend.xp
        state["step"] += 1
        weight_decay = float(group["weight_decay"])
        grad = with_weight_decay(p, grad, weight_decay)
        clr = float(group["lr"]) / (1 + (state["step"] - 1) * float(group["lr_decay"]))
        tmp = xp.multiply(grad, grad, out=xp.empty_like(p.data))  # an array even for a 0-d p (out= below)
        state["sum"] += tmp
        std = xp.sqrt(state["sum"], out=tmp)
        std += float(group["eps"])
        xp.divide(grad, std, out=tmp)
        p.backend.axpy(-clr, tmp, p.data)
