"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay."""

from minidl.errors import ArgumentError
from minidl.optim.optimizer import Optimizer, check_nonnegative, with_weight_decay


# The momentum step (after the first) as one elementwise kernel, for devices that compile them (the
# GPU: Backend.elementwise_kernel); the same formulas as SGD._update's array code:
#     d = g + weight_decay·p;   v ← momentum·v + (1 - dampening)·d;   p ← p - lr·(v, or d + momentum·v)
_MOMENTUM_STEP = {
    nesterov: ("sgd_nesterov" if nesterov else "sgd_momentum",
               "T g, T lr, T momentum, T damp, T weight_decay", "T param, T velocity",
               "T d = g + weight_decay * param; velocity = momentum * velocity + damp * d; "
               f"param -= lr * ({'d + momentum * velocity' if nesterov else 'velocity'});")
    for nesterov in (False, True)}


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
        momentum, weight_decay = float(group["momentum"]), float(group["weight_decay"])
        lr, dampening, nesterov = float(group["lr"]), float(group["dampening"]), group["nesterov"]
        backend, data = p.backend, p.data
        xp = backend.xp
        buf = state.get("momentum_buffer") if momentum != 0 else None
        kernel = None if buf is None else backend.elementwise_kernel(*_MOMENTUM_STEP[nesterov])
        if kernel is not None:  # a GPU: the whole momentum step below in one launch
            kernel(grad, lr, momentum, 1 - dampening, weight_decay, data, buf)
            return
        grad = with_weight_decay(p, grad, weight_decay)  # d = g + weight_decay·p
        # The rest in place, as BLAS-style passes (Backend.axpy: y ← a·x + y; Backend.scale: x ← a·x)
        if momentum != 0:
            if buf is None:  # v ← d at the first step, in d's memory order (a Linear weight's is F)
                buf = state["momentum_buffer"] = xp.copy(grad)
            else:  # v ← momentum·v + (1 - dampening)·d
                backend.scale(momentum, buf)
                backend.axpy(1 - dampening, grad, buf)
            if not nesterov:  # p ← p - lr·v
                backend.axpy(-lr, buf, data)
                return
            backend.axpy(-lr * momentum, buf, data)  # Nesterov: p ← p - lr·(d + momentum·v)
        backend.axpy(-lr, grad, data)  # p ← p - lr·d
