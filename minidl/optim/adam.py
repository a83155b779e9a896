"""Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019): PyTorch's formulas."""

from minidl.optim.optimizer import Optimizer, average_square, check_betas, check_nonnegative, with_weight_decay


class Adam(Optimizer):
    """Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False).

    Per parameter p with gradient g, at step t (β1, β2 = betas):
        g ← g + weight_decay · p                        (Adam: L2 added to the gradient)
        m ← β1 · m + (1 - β1) · g                       (first moment; PyTorch writes it as a lerp)
        v ← β2 · v + (1 - β2) · g²                      (second moment)
        v̂ ← max(v̂, v) if amsgrad, else v̂ = v
        p ← p - lr / (1 - β1ᵗ) · m / (sqrt(v̂) / sqrt(1 - β2ᵗ) + eps)

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
        backend, data = p.backend, p.data
        xp = backend.xp
        lr, weight_decay, eps = float(group["lr"]), float(group["weight_decay"]), float(group["eps"])
        beta1, beta2 = (float(beta) for beta in group["betas"])
        state["step"] += 1
        step = state["step"]
        if weight_decay != 0:
            if self._decoupled:
                backend.scale(1 - lr * weight_decay, data)  # AdamW: decay the weights, not the gradient
            else:
                grad = with_weight_decay(p, grad, weight_decay)
        # In place, as BLAS-style passes where they fit (Backend.scale: x ← a·x, Backend.axpy: y ← a·x + y)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        backend.scale(beta1, exp_avg)  # m ← β1·m + (1 - β1)·g
        backend.axpy(1 - beta1, grad, exp_avg)
        tmp = average_square(backend, exp_avg_sq, grad, beta2)  # v ← β2·v + (1 - β2)·g²
        if group["amsgrad"]:
            max_exp_avg_sq = state.get("max_exp_avg_sq")
            if max_exp_avg_sq is None:  # amsgrad switched on after the first step
                max_exp_avg_sq = state["max_exp_avg_sq"] = xp.zeros_like(data)
            xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            second = max_exp_avg_sq
        else:
            second = exp_avg_sq
        # p ← p - lr/bc1 · m / (sqrt(v̂)/sqrt(bc2) + eps), with bc_k = 1 - β_kᵗ, computed as
        # p ← p - (lr·sqrt(bc2)/bc1) · m / (sqrt(v̂) + eps·sqrt(bc2)): the same value, two passes fewer
        bias_correction1 = 1 - beta1 ** step
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        denom = xp.sqrt(second, out=tmp)
        denom += eps * bias_correction2_sqrt
        xp.divide(exp_avg, denom, out=denom)
        backend.axpy(-lr * bias_correction2_sqrt / bias_correction1, denom, data)


class AdamW(Adam):
    """AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False).

    Adam with decoupled weight decay: the weights shrink directly, p ← p · (1 - lr · weight_decay),
    before the Adam step, instead of weight_decay · p joining the gradient (where Adam's per-coordinate
    scaling would weaken it for parameters with large gradients).
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)


def lerp_(xp, target, end, weight):
    """target ← target + weight · (end - target), in place, with PyTorch's two-sided formula.

    For weight ≥ 0.5 PyTorch computes end - (end - target) · (1 - weight), which is exact at weight 1.
    """
    diff = xp.subtract(end, target)
    if abs(weight) < 0.5:
        diff *= weight
        target += diff
    else:
        diff *= 1 - weight
        xp.subtract(end, diff, out=target)
