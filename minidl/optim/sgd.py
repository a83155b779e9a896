"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay."""

from minidl.errors import ArgumentError
from minidl.optim.fast import blas_sgd
from minidl.optim.optimizer import Optimizer, check_nonnegative, with_weight_decay


class SGD(Optimizer):
    """SGD(params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False): PyTorch's formulas.

    Per parameter p with gradient g, at step t:
        g ← g + weight_decay · p                              (L2 regularisation, if weight_decay)
        v ← g                              at t = 1            (momentum buffer: no dampening yet)
        v ← momentum · v + (1 - dampening) · g   after that
        g ← g + momentum · v   if nesterov,  else  g ← v       (if momentum)
        p ← p - lr · g

    Two momentum conventions are in use, and they differ when the learning rate changes:
        PyTorch (followed here):   v ← μ·v + g,         p ← p - lr·v
        Sutskever et al. (2013):   v ← μ·v - lr·g,      p ← p + v
    With a constant lr both give the same trajectory (v_Sutskever = -lr·v_PyTorch). When a scheduler
    changes lr, PyTorch's form applies the new rate to the whole accumulated velocity at once, while
    Sutskever's keeps the old rate inside the velocity and only new gradients see the new rate.
    Nesterov here is PyTorch's reformulation: step along g + μ·v instead of v.

    State per parameter: "momentum_buffer" (when momentum != 0).
    """

    def __init__(self, params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov)
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group, where):
        for key in ("lr", "momentum", "dampening", "weight_decay"):
            check_nonnegative(group, key, where, "SGD")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ArgumentError(f"SGD: nesterov=True needs momentum > 0 and dampening = 0, got momentum="
                                f"{group['momentum']!r} and dampening={group['dampening']!r}{where}")

    def _update(self, p, grad, state, group):
        """The reference step: the docstring's formulas, as written (fast sibling: optim/fast.py, blas_sgd)."""
        lr, momentum, dampening = float(group["lr"]), float(group["momentum"]), float(group["dampening"])
        g = with_weight_decay(p, grad, float(group["weight_decay"]))  # g + weight_decay·p (a new array)
        if momentum != 0:
            v = state.get("momentum_buffer")
            if v is None:
                v = state["momentum_buffer"] = g.copy()            # v = g at t = 1
            else:
                v[...] = momentum * v + (1 - dampening) * g        # v ← momentum·v + (1 - dampening)·g
            g = g + momentum * v if group["nesterov"] else v
        p.data -= lr * g                                           # p ← p - lr·g

    _fast_update = staticmethod(blas_sgd)
