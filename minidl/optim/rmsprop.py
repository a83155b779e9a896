"""RMSprop (Hinton's lecture 6e), optionally centered and with momentum: PyTorch's formulas."""

from minidl.errors import ArgumentError
from minidl.optim.adam import lerp_
from minidl.optim.optimizer import Optimizer, average_square, check_nonnegative, with_weight_decay


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
        backend = p.backend
        xp = backend.xp
        alpha, momentum, weight_decay = float(group["alpha"]), float(group["momentum"]), float(group["weight_decay"])
        state["step"] += 1
        grad = with_weight_decay(p, grad, weight_decay)
        square_avg = state["square_avg"]
        tmp = average_square(backend, square_avg, grad, alpha)  # v ← α·v + (1 - α)·g²
        if group["centered"]:
            grad_avg = state.get("grad_avg")
            if grad_avg is None:  # centered switched on after the first step
                grad_avg = state["grad_avg"] = xp.zeros_like(p.data)
            lerp_(xp, grad_avg, grad, 1 - alpha)
            xp.multiply(grad_avg, grad_avg, out=tmp)
            avg = xp.subtract(square_avg, tmp, out=tmp)
            xp.sqrt(avg, out=avg)
        else:
            avg = xp.sqrt(square_avg, out=tmp)
        avg += float(group["eps"])
        xp.divide(grad, avg, out=tmp)
        if momentum > 0:
            buf = state.get("momentum_buffer")
            if buf is None:  # momentum switched on after the first step
                buf = state["momentum_buffer"] = xp.zeros_like(p.data)
            backend.scale(momentum, buf)
            backend.axpy(1, tmp, buf)
            tmp = buf
        backend.axpy(-float(group["lr"]), tmp, p.data)
