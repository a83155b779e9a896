"""RMSprop (Hinton's lecture 6e), optionally centered and with momentum: PyTorch's formulas."""

from minidl.errors import ArgumentError
from minidl.optim.fast import blas_rmsprop
from minidl.optim.optimizer import Optimizer, check_nonnegative, with_weight_decay, zeros_state


class RMSprop(Optimizer):
    """RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False).

    Per parameter p with gradient g:
        g ← g + weight_decay · p
        v ← α · v + (1 - α) · g²                       (running mean of squared gradients)
        centered:  ḡ ← ḡ + (1 - α) · (g - ḡ),   a = sqrt(v - ḡ²) + eps   (variance, not 2nd moment)
        else:      a = sqrt(v) + eps
        momentum:  b ← momentum · b + g / a,     p ← p - lr · b
        else:      p ← p - lr · g / a

    State per parameter: "step", "square_avg" (v), "momentum_buffer" (b, when momentum > 0),
    "grad_avg" (ḡ, when centered).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered)
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group, where):
        for key in ("lr", "alpha", "eps", "weight_decay", "momentum"):
            check_nonnegative(group, key, where, "RMSprop")
        if group["alpha"] > 1:
            raise ArgumentError(f"RMSprop: alpha must be in [0, 1], got {group['alpha']!r}{where}")

    def _init_state(self, p, state, group):
        xp = p.backend.xp
        state["step"] = 0
        state["square_avg"] = xp.zeros_like(p.data)
        if group["momentum"] > 0:
            state["momentum_buffer"] = xp.zeros_like(p.data)
        if group["centered"]:
            state["grad_avg"] = xp.zeros_like(p.data)

    def _update(self, p, grad, state, group):
        """The reference step: the docstring's formulas, as written (fast sibling: optim/fast.py, blas_rmsprop)."""
        xp = p.backend.xp
        alpha, momentum, eps = float(group["alpha"]), float(group["momentum"]), float(group["eps"])
        state["step"] += 1
        g = with_weight_decay(p, grad, float(group["weight_decay"]))    # g ← g + weight_decay·p
        v = state["square_avg"]
        v[...] = alpha * v + (1 - alpha) * g * g                         # v ← α·v + (1 - α)·g²
        if group["centered"]:
            g_avg = zeros_state(state, "grad_avg", p)
            g_avg[...] = g_avg + (1 - alpha) * (g - g_avg)               # ḡ ← ḡ + (1 - α)·(g - ḡ)
            a = xp.sqrt(v - g_avg * g_avg) + eps                         # a = sqrt(v - ḡ²) + eps
        else:
            a = xp.sqrt(v) + eps                                         # a = sqrt(v) + eps
        if momentum > 0:
            b = zeros_state(state, "momentum_buffer", p)
            b[...] = momentum * b + g / a                                # b ← momentum·b + g / a
            p.data -= float(group["lr"]) * b                             # p ← p - lr·b
        else:
            p.data -= float(group["lr"]) * g / a                         # p ← p - lr·g / a

    _fast_update = staticmethod(blas_rmsprop)
