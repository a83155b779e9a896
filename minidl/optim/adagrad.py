"""Adagrad (Duchi et al., 2011): per-coordinate rates that shrink with the sum of squared gradients."""

from minidl.optim.fast import blas_adagrad
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
        """The reference step: the docstring's formulas, as written (fast sibling: optim/fast.py, blas_adagrad)."""
        xp = p.backend.xp
        state["step"] += 1
        t = state["step"]
        g = with_weight_decay(p, grad, float(group["weight_decay"]))  # g ← g + weight_decay·p
        clr = float(group["lr"]) / (1 + (t - 1) * float(group["lr_decay"]))
        s = state["sum"]
        s[...] = s + g * g                                              # s ← s + g²
        p.data -= clr * g / (xp.sqrt(s) + float(group["eps"]))         # p ← p - clr · g / (sqrt(s) + eps)

    _fast_update = staticmethod(blas_adagrad)
