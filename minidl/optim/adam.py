"""Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019): PyTorch's formulas."""

from minidl.optim.fast import blas_adam, blas_adamw
from minidl.optim.optimizer import Optimizer, check_betas, check_nonnegative, with_weight_decay, zeros_state


class Adam(Optimizer):
    """Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False).

    Per parameter p with gradient g, at step t (β1, β2 = betas):
        g ← g + weight_decay · p                        (Adam: L2 added to the gradient)
        m ← β1 · m + (1 - β1) · g                       (first moment; PyTorch writes it as a lerp)
        v ← β2 · v + (1 - β2) · g²                      (second moment)
        v ← max(v_max, v) if amsgrad (v_max: the largest v so far)
        m̂ = m / (1 - β1ᵗ)                               (bias corrections: m and v start at 0)
        v̂ = v / (1 - β2ᵗ)
        p ← p - lr · m̂ / (sqrt(v̂) + eps)

    State per parameter: "step", "exp_avg" (m), "exp_avg_sq" (v), and "max_exp_avg_sq" with amsgrad.
    """

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False):
        defaults = dict(lr=lr, betas=tuple(betas) if isinstance(betas, list) else betas, eps=eps,
                        weight_decay=weight_decay, amsgrad=amsgrad)
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group, where):
        owner = type(self).__name__
        for key in ("lr", "eps", "weight_decay"):
            check_nonnegative(group, key, where, owner)
        check_betas(group, where, owner)

    def _init_state(self, p, state, group):
        xp = p.backend.xp
        state["step"] = 0
        state["exp_avg"] = xp.zeros_like(p.data)
        state["exp_avg_sq"] = xp.zeros_like(p.data)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = xp.zeros_like(p.data)

    def _update(self, p, grad, state, group):
        """The reference step: the docstring's formulas, as written (fast sibling: optim/fast.py, blas_adam)."""
        xp = p.backend.xp
        lr, weight_decay, eps = float(group["lr"]), float(group["weight_decay"]), float(group["eps"])
        beta1, beta2 = (float(beta) for beta in group["betas"])
        state["step"] += 1
        t = state["step"]
        if self._decoupled:
            p.data *= 1 - lr * weight_decay                        # AdamW: p ← p · (1 - lr·weight_decay)
            g = grad
        else:
            g = with_weight_decay(p, grad, weight_decay)           # Adam: g ← g + weight_decay·p
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m[...] = beta1 * m + (1 - beta1) * g                       # m ← β1·m + (1 - β1)·g
        v[...] = beta2 * v + (1 - beta2) * g * g                   # v ← β2·v + (1 - β2)·g²
        if group["amsgrad"]:
            v_max = zeros_state(state, "max_exp_avg_sq", p)
            v_max[...] = xp.maximum(v_max, v)                      # v_max ← max(v_max, v)
            v = v_max
        m_hat = m / (1 - beta1 ** t)                               # m̂ = m / (1 - β1ᵗ)
        v_hat = v / (1 - beta2 ** t)                               # v̂ = v / (1 - β2ᵗ)
        p.data -= lr * m_hat / (xp.sqrt(v_hat) + eps)              # p ← p - lr · m̂ / (sqrt(v̂) + eps)

    _fast_update = staticmethod(blas_adam)


class AdamW(Adam):
    """AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False).

    Adam with decoupled weight decay: the weights shrink directly, p ← p · (1 - lr · weight_decay),
    before the Adam step, instead of weight_decay · p joining the gradient (where Adam's per-coordinate
    scaling would weaken it for parameters with large gradients).
    """

    _decoupled = True
    _fast_update = staticmethod(blas_adamw)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)

