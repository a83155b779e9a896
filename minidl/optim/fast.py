"""The fast siblings of the optimizers' reference steps: the same formulas, rewritten for speed.

Each optimizer's `_update` (sgd.py, adam.py, adagrad.py, rmsprop.py) is the readable reference: its
docstring's formulas, one parameter at a time, in plain array code. The functions here compute the same
numbers (tests/test_optim_fast.py: equal to the reference to 1e-10 relative after 50 float64 steps, for
every option) with fewer passes over memory:
    - in place, as BLAS level-1 passes where they fit (Backend.scale: x ← a·x, Backend.axpy: y ← a·x + y;
      SciPy's BLAS on the CPU, one fused multiply-add pass where NumPy needs two), in
      `Backend.in_place_updates()` (Optimizer.step enters it around the fast steps);
    - scratch arrays reused through `out=`;
    - Adam's bias corrections folded into two scalars (two passes fewer than m̂ and v̂ as written);
    - SGD's momentum step as one compiled elementwise kernel on devices that have them (the GPU).

`Optimizer._step_function` (optimizer.py) is the one place that chooses between a class's reference
`_update` and its `_fast_update` here: the fast sibling whenever fast paths are on (`_use_fast()`).
Each has the signature of `_update`: (p, grad, state, group), updating `p.data` in place, never
writing to the gradient array `grad`.
"""

from minidl.optim.optimizer import with_weight_decay


def blas_sgd(p, grad, state, group):
    """SGD (sgd.py) in BLAS passes; the whole momentum step as one kernel launch on the GPU."""
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


# SGD's momentum step (after the first) as one elementwise kernel, for devices that compile them (the
# GPU: Backend.elementwise_kernel); the same formulas as blas_sgd's array code:
#     d = g + weight_decay·p;   v ← momentum·v + (1 - dampening)·d;   p ← p - lr·(v, or d + momentum·v)
_MOMENTUM_STEP = {
    nesterov: ("sgd_nesterov" if nesterov else "sgd_momentum",
               "T g, T lr, T momentum, T damp, T weight_decay", "T param, T velocity",
               "T d = g + weight_decay * param; velocity = momentum * velocity + damp * d; "
               f"param -= lr * ({'d + momentum * velocity' if nesterov else 'velocity'});")
    for nesterov in (False, True)}


def blas_adam(p, grad, state, group, decoupled=False):
    """Adam (adam.py) in BLAS passes, its bias corrections folded into the step size and eps."""
    backend, data = p.backend, p.data
    xp = backend.xp
    lr, weight_decay, eps = float(group["lr"]), float(group["weight_decay"]), float(group["eps"])
    beta1, beta2 = (float(beta) for beta in group["betas"])
    state["step"] += 1
    step = state["step"]
    if weight_decay != 0:
        if decoupled:
            backend.scale(1 - lr * weight_decay, data)  # AdamW: decay the weights, not the gradient
        else:
            grad = with_weight_decay(p, grad, weight_decay)
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
    # The reference's p ← p - lr·m̂/(sqrt(v̂) + eps), with m̂ = m/bc1, v̂ = v/bc2, bc_k = 1 - β_kᵗ, is
    # p ← p - (lr·sqrt(bc2)/bc1) · m / (sqrt(v) + eps·sqrt(bc2)): the same value, two passes fewer
    bias_correction1 = 1 - beta1 ** step
    bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
    denom = xp.sqrt(second, out=tmp)
    denom += eps * bias_correction2_sqrt
    xp.divide(exp_avg, denom, out=denom)
    backend.axpy(-lr * bias_correction2_sqrt / bias_correction1, denom, data)


def blas_adamw(p, grad, state, group):
    """AdamW (adam.py): blas_adam with decoupled weight decay."""
    blas_adam(p, grad, state, group, decoupled=True)


def blas_adagrad(p, grad, state, group):
    """Adagrad (adagrad.py) with one scratch array and a BLAS axpy for the step."""
    xp = p.backend.xp
    state["step"] += 1
    grad = with_weight_decay(p, grad, float(group["weight_decay"]))
    clr = float(group["lr"]) / (1 + (state["step"] - 1) * float(group["lr_decay"]))
    tmp = xp.multiply(grad, grad, out=xp.empty_like(p.data))  # an array even for a 0-d p (out= below)
    state["sum"] += tmp
    std = xp.sqrt(state["sum"], out=tmp)
    std += float(group["eps"])
    xp.divide(grad, std, out=tmp)
    p.backend.axpy(-clr, tmp, p.data)


def blas_rmsprop(p, grad, state, group):
    """RMSprop (rmsprop.py) in BLAS passes, one scratch array; the centered mean as PyTorch's lerp."""
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


# -- shared by the siblings above ---------------------------------------------------------------------------
def average_square(backend, average, grad, decay):
    """average ← decay·average + (1 - decay)·g², in place (Adam's v, RMSprop's square average).
    Returns g², a new array the caller may reuse as scratch (an array even for a 0-d parameter)."""
    squared = backend.xp.multiply(grad, grad, out=backend.xp.empty_like(average))
    backend.scale(decay, average)
    backend.axpy(1 - decay, squared, average)
    return squared


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
