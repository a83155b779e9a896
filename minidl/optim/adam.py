"""Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019): PyTorch's formulas."""

from minidl.optim.optimizer import Optimizer, check_betas, check_nonnegative


class Adam(Optimizer):
    """Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False).

    Per parameter p with gradient g, at step t (β1, β2 = betas):
        g ← g + weight_decay · p                        (Adam: L2 added to the gradient)
        m ← m + (1 - β1) · (g - m)                      (first moment, PyTorch's lerp)
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
        xp = p.backend.xp
        lr, weight_decay, eps = float(group["lr"]), float(group["weight_decay"]), float(group["eps"])
        beta1, beta2 = (float(beta) for beta in group["betas"])
        state["step"] += 1
        step = state["step"]
        if weight_decay != 0:
            if self._decoupled:
                p.data *= 1 - lr * weight_decay  # AdamW: decay the weights, not the gradient
            else:
                grad = grad + weight_decay * p.data  # a new array: the gradient is never written to

        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        lerp_(xp, exp_avg, grad, 1 - beta1)
        tmp = xp.multiply(grad, grad, out=xp.empty_like(p.data))  # an array even for a 0-d p (out= below)
        tmp *= 1 - beta2
        exp_avg_sq *= beta2
        exp_avg_sq += tmp

        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2 ** 0.5
        if group["amsgrad"]:
            max_exp_avg_sq = state.get("max_exp_avg_sq")
            if max_exp_avg_sq is None:  # amsgrad switched on after the first step
                max_exp_avg_sq = state["max_exp_avg_sq"] = xp.zeros_like(p.data)
            xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            second = max_exp_avg_sq
        else:
            second = exp_avg_sq
        denom = xp.sqrt(second, out=tmp)
        denom /= bias_correction2_sqrt
        denom += eps
        xp.divide(exp_avg, denom, out=denom)
        denom *= step_size
        p.data -= denom


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
