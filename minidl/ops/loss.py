"""Losses, as PyTorch's: cross_entropy (fused with log-softmax), nll_loss, binary_cross_entropy (on
probabilities and, stable, on logits), mse_loss, l1_loss, huber_loss; and one_hot.

These are the references; cross-entropy's fast siblings (transposed logits on the CPU, one compiled
backward kernel on the GPU) are in minidl/ops/fast/, chosen by `fast.choose` in `cross_entropy`.

Every loss takes reduction="mean" | "sum" | "none" and reduces inside its own op, so backward only
scales dL/dy: by 1 ("sum", "none": elementwise) or by 1 / count ("mean").

The input (logits, probabilities) must be a Tensor: a NumPy array there is an ArgumentTypeError, as
PyTorch refuses one (it has no graph to carry a gradient). Targets and weights may be plain data.
"""

import contextlib
import numbers

from minidl.autograd import Function
from minidl.creation import tensor
from minidl.errors import ArgumentError, ArgumentTypeError, DeviceError, DTypeError, ShapeError
from minidl.ops import fast
from minidl.ops.broadcast import unbroadcast
from minidl.tensor import Tensor

REDUCTIONS = ("mean", "sum", "none")


def _ignoring_log_of_zero(xp):
    """NumPy warns on log(0); CuPy has no such warnings (and may have no errstate)."""
    errstate = getattr(xp, "errstate", None)
    return errstate(divide="ignore") if errstate is not None else contextlib.nullcontext()


class _ElementwiseLoss(Function):
    """loss = reduce(l(x, t));   dL/dx = dL/dloss * ∂l/∂x (÷ N for "mean"): the elementwise losses' reduction.

    Shared by the elementwise losses: reduce the per-element loss as asked, and undo that in backward.

    Subclasses compute the per-element loss in `forward` and pass it through `self.reduce`; their
    backward starts from `self.per_element(gy)`, dL/d(loss element).
    """

    def __init__(self, reduction, weight=None):
        self.reduction, self.weight = reduction, weight

    def reduce(self, loss):
        if self.weight is not None:
            loss = loss * self.weight
        self.loss_shape = loss.shape
        if self.reduction == "none":
            return loss
        return loss.sum() if self.reduction == "sum" else loss.mean()

    def per_element(self, gy):
        if self.reduction == "mean":
            n = 1
            for d in self.loss_shape:
                n *= d
            gy = gy * (1.0 / n) if n else gy
        return gy if self.weight is None else gy * self.weight

    def input_grad(self, g, k):
        """g summed back to input k's shape and cast to its dtype (inputs may broadcast or differ in dtype)."""
        x = self.inputs[k]
        if g.shape != self.loss_shape:
            g = self.xp.broadcast_to(g, self.loss_shape)
        return unbroadcast(g, x.shape, x.dtype)


class MSELoss(_ElementwiseLoss):
    """loss = (x - t)²;   dL/dx = 2 (x - t) * dL/dloss,   dL/dt = -dL/dx.   Saves x - t."""

    def forward(self, x, t):
        diff = x - t
        self.saved = (diff,)
        return self.reduce(diff * diff)

    def backward(self, gy):
        (diff,) = self.saved
        g = diff * (2 * self.per_element(gy))
        return (self.input_grad(g, 0) if self.needs_grad[0] else None,
                self.input_grad(-g, 1) if self.needs_grad[1] else None)


class L1Loss(_ElementwiseLoss):
    """loss = |x - t|;   dL/dx = sign(x - t) * dL/dloss (0 where x == t),   dL/dt = -dL/dx.   Saves x - t."""

    def forward(self, x, t):
        diff = x - t
        self.saved = (diff,)
        return self.reduce(self.xp.abs(diff))

    def backward(self, gy):
        (diff,) = self.saved
        g = self.xp.sign(diff) * self.per_element(gy)
        return (self.input_grad(g, 0) if self.needs_grad[0] else None,
                self.input_grad(-g, 1) if self.needs_grad[1] else None)


class HuberLoss(_ElementwiseLoss):
    """loss = d²/2 if |d| <= δ else δ (|d| - δ/2), d = x - t;   dL/dx = clip(d, -δ, δ) dL/dloss,   dL/dt = -dL/dx

    δ = delta. Saves d."""

    def __init__(self, reduction, delta):
        super().__init__(reduction)
        self.delta = delta

    def forward(self, x, t):
        xp = self.xp
        d = x - t
        a = xp.abs(d)
        self.saved = (d,)
        return self.reduce(xp.where(a <= self.delta, 0.5 * d * d, self.delta * (a - 0.5 * self.delta)))

    def backward(self, gy):
        (d,) = self.saved
        g = self.xp.clip(d, -self.delta, self.delta) * self.per_element(gy)
        return (self.input_grad(g, 0) if self.needs_grad[0] else None,
                self.input_grad(-g, 1) if self.needs_grad[1] else None)


class BinaryCrossEntropy(_ElementwiseLoss):
    """loss = -(t log p + (1 - t) log(1 - p));   dL/dp = (p - t) / (p (1 - p)) dL/dloss,   dL/dt = log((1 - p) / p) dL/dloss

    With PyTorch's clamps: each log at least -100, p (1 - p) at least 1e-12:
        loss = -(t * max(log p, -100) + (1 - t) * max(log(1 - p), -100))
        dL/dp = (p - t) / max(p (1 - p), 1e-12) * dL/dloss
        dL/dt = (max(log(1 - p), -100) - max(log p, -100)) * dL/dloss.   Saves p, t and the two logs."""

    def forward(self, p, t):
        xp = self.xp
        with _ignoring_log_of_zero(xp):  # log(0) = -inf, then clamped
            log_p = xp.maximum(xp.log(p), -100.0)
            log_1mp = xp.maximum(xp.log1p(-p), -100.0)
        self.saved = (p, t, log_p, log_1mp)
        return self.reduce((t - 1) * log_1mp - t * log_p)

    def backward(self, gy):
        p, t, log_p, log_1mp = self.saved
        g = self.per_element(gy)
        gp = gt = None
        if self.needs_grad[0]:
            gp = self.input_grad((p - t) / self.xp.maximum((1 - p) * p, 1e-12) * g, 0)
        if self.needs_grad[1]:
            gt = self.input_grad((log_1mp - log_p) * g, 1)
        return gp, gt


class BinaryCrossEntropyWithLogits(_ElementwiseLoss):
    """loss = max(x, 0) - x t + log(1 + exp(-|x|));   dL/dx = (sigmoid(x) - t) * dL/dloss,   dL/dt = -x * dL/dloss

    BCE on logits x, stable for any |x|, with pos_weight: loss = (1 - t) x + lw * (log(1 + exp(-|x|)) + max(-x, 0)),
    lw = 1 + (pos_weight - 1) t  (lw = 1 without pos_weight: loss = max(x, 0) - x t + log(1 + exp(-|x|)));
    dL/dx = ((1 - t) - lw * sigmoid(-x)) * dL/dloss,  dL/dt = ((pos_weight - 1) * softplus(-x) - x) * dL/dloss.
    Saves x, t, sigmoid(-x) and softplus(-x) = log(1 + exp(-x))."""

    def __init__(self, reduction, weight, pos_weight):
        super().__init__(reduction, weight)
        self.pos_weight = pos_weight

    def forward(self, x, t):
        xp = self.xp
        e = xp.exp(-xp.abs(x))                        # in (0, 1]: never overflows
        softplus_neg = xp.log1p(e) + xp.maximum(-x, 0)  # log(1 + exp(-x))
        sig_neg = xp.where(x >= 0, e, 1) / (1 + e)   # sigmoid(-x)
        lw = None if self.pos_weight is None else 1 + (self.pos_weight - 1) * t
        self.saved = (x, t, sig_neg, softplus_neg, lw)
        return self.reduce((1 - t) * x + (softplus_neg if lw is None else lw * softplus_neg))

    def backward(self, gy):
        x, t, sig_neg, softplus_neg, lw = self.saved
        g = self.per_element(gy)
        gx = gt = None
        if self.needs_grad[0]:
            gx = self.input_grad(((1 - t) - (sig_neg if lw is None else lw * sig_neg)) * g, 0)
        if self.needs_grad[1]:
            dt = -x if self.pos_weight is None else (self.pos_weight - 1) * softplus_neg - x
            gt = self.input_grad(dt * g, 1)
        return gx, gt


class CrossEntropy(Function):
    """loss_i = -log softmax(z_i)[t_i];   dL/dz_i = (softmax(z_i) - onehot(t_i)) * dL/dloss_i   (ε = 0, no weights)

    Softmax cross-entropy of logits z (N, C) against class indices t (N,), fused via log-sum-exp:
        log p = z - logsumexp(z)    (row-wise; p = softmax(z))
        loss_i = -(1 - ε) w[t_i] log p[i, t_i]  -  (ε / C) Σ_c w[c] log p[i, c]     (ε: label smoothing)
        dloss_i/dz_i = ((1 - ε) w[t_i] + (ε / C) Σ_c w[c]) p_i  -  (1 - ε) w[t_i] onehot(t_i)  -  (ε / C) w
    (w = 1 without class weights). "mean" divides the sum by Σ_i w[t_i] (N without weights), as PyTorch.
    Saves p (N, C) and w[t].
    """

    def __init__(self, target, weight, reduction, label_smoothing):
        self.target, self.weight = target, weight
        self.reduction, self.smoothing = reduction, label_smoothing

    def forward(self, z):
        xp = self.xp
        n, c = z.shape
        t, w, eps = self.target, self.weight, self.smoothing
        shifted = z - z.max(axis=1, keepdims=True)
        log_p = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))  # (N, C)
        w_t = None if w is None else w[t]
        loss = -log_p[xp.arange(n), t]
        if w_t is not None:
            loss = loss * w_t
        if eps:
            smooth = -(log_p.sum(axis=1) if w is None else log_p @ w)        # -Σ_c w[c] log p[i, c]
            loss = loss * (1 - eps) + smooth * (eps / c)
        self.saved = (xp.exp(log_p), w_t)
        return self.reduce(loss, w_t)

    def reduce(self, loss, w_t):
        """The per-sample losses (N,) reduced as asked: as they are, summed, or averaged over N (over
        Σ weight[target] with class weights, PyTorch's weighted mean; backward divides by the same)."""
        if self.reduction == "none":
            return loss
        if self.reduction == "sum":
            return loss.sum()
        self.denominator = len(loss) if w_t is None else w_t.sum()
        return loss.sum() / self.denominator

    def backward(self, gy):
        xp = self.xp
        p, w_t = self.saved                                # p: (N, C)
        n, c = p.shape
        eps, w = self.smoothing, self.weight
        if self.reduction == "mean":
            gy = gy / self.denominator
        g = gy if self.reduction == "none" else xp.broadcast_to(gy, (n,))   # dL/dloss_i
        g_target = g if w_t is None else g * w_t           # dL/dloss_i * w[t_i]
        coef = g_target * (1 - eps)
        if eps:
            coef = coef + g * ((c if w is None else w.sum()) * (eps / c))
        gz = p * coef[:, None]
        gz[xp.arange(n), self.target] -= g_target * (1 - eps)
        if eps:
            gz -= g[:, None] * ((eps / c) if w is None else w * (eps / c))
        return gz


class NLLLoss(Function):
    """loss_i = -w[t_i] * x[i, t_i];   dL/dx[i, t_i] = -w[t_i] * dL/dloss_i, 0 elsewhere

    x: log-probabilities (N, C), t: class indices (N,). "mean" divides by Σ_i w[t_i]. Saves w[t]."""

    def __init__(self, target, weight, reduction):
        self.target, self.weight, self.reduction = target, weight, reduction

    def forward(self, x):
        n = x.shape[0]
        rows = self.xp.arange(n)
        self.w_t = None if self.weight is None else self.weight[self.target]
        loss = -x[rows, self.target]
        if self.w_t is not None:
            loss *= self.w_t
        self.shape = x.shape
        if self.reduction == "none":
            return loss
        if self.reduction == "sum":
            return loss.sum()
        self.denominator = n if self.w_t is None else self.w_t.sum()
        return loss.sum() / self.denominator

    def backward(self, gy):
        xp = self.xp
        n = self.shape[0]
        if self.reduction == "mean":
            gy = gy / self.denominator
        g = gy if self.reduction == "none" else xp.broadcast_to(gy, (n,))
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        gx[xp.arange(n), self.target] = -g if self.w_t is None else -(g * self.w_t)
        return gx


# -- argument checks shared by the losses ---------------------------------------------------------------
def _check_reduction(op, reduction):
    if reduction not in REDUCTIONS:
        raise ArgumentError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


def _constant(op, name, value, like):
    """An optional weight-like argument as an array of `like`'s device and dtype (no gradient)."""
    if value is None:
        return None
    if isinstance(value, Tensor):
        if value._backend is not like._backend:
            raise DeviceError(f"{op}: {name} is on '{value.device}' but the input is on '{like.device}'")
        value = value.data
    elif not like._backend.is_array(value):
        value = like._backend.asarray(value)
    if value.dtype.kind not in "biuf":
        first = f" such as {value.ravel()[0].item()!r}" if value.size else ""
        raise DTypeError(f"{op}: {name} must hold numbers, got {value.dtype} data{first}")
    return value.astype(like.dtype, copy=False)


def _check_input(op, x, what="input"):
    """The first argument of a loss must be a Tensor (a NumPy array has no graph to record a gradient in)."""
    if not isinstance(x, Tensor):
        kind = type(x).__name__ if type(x).__module__ == "builtins" else f"{type(x).__module__}.{type(x).__name__}"
        raise ArgumentTypeError(f"{op}: expected the {what} as a Tensor, got {kind}; wrap it with mdl.tensor(...)")


def _class_targets(op, target, like, n, c):
    """Integer class indices (N,) on `like`'s device, each checked to lie in [0, C)."""
    if isinstance(target, Tensor):
        if target._backend is not like._backend:
            raise DeviceError(f"{op}: target is on '{target.device}' but the input is on '{like.device}'")
        t = target.data
    else:
        t = like._backend.asarray(target)
    if t.dtype.kind not in "iu":
        raise DTypeError(f"{op}: target must hold integer class indices, got dtype {t.dtype} "
                         f"(for class probabilities or 0/1 targets use binary_cross_entropy)")
    if t.shape != (n,):
        raise ShapeError(f"{op}: input of shape ({n}, {c}) needs a target of shape ({n},) (one class index per "
                         f"row), got target of shape {t.shape}")
    if n:
        unsigned = t if t.dtype.kind == "u" else t.view(t.dtype.str.replace("i", "u"))  # negatives wrap to huge
        bad = unsigned >= c

        def out_of_bounds():
            return ArgumentError(f"{op}: target {int(t[bad][0])} is out of bounds: class indices must be in "
                                 f"[0, {c}) for input with {c} classes")

        like._backend.check(bad.any(), out_of_bounds)  # on a GPU: raised at the next host read
    return t


def _check_logits(op, x, what="logits"):
    _check_input(op, x, what)
    if x.ndim != 2:
        raise ShapeError(f"{op}: expected {what} of shape (N, C), got shape {x.shape}")
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: {what} must be floating point, got {x.dtype}")


def _class_weight(op, weight, x):
    w = _constant(op, "weight", weight, x)
    if w is not None and w.shape != (x.shape[1],):
        raise ShapeError(f"{op}: weight must have shape ({x.shape[1]},) (one per class), got {w.shape}")
    return w


def _pair_target(op, x, target):
    """The target as a Tensor on x's device with x's shape; a constant target takes x's dtype."""
    _check_input(op, x)
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: input must be floating point, got {x.dtype}")
    if target is None:  # not an optional argument (to _constant, None means "no weight")
        raise ArgumentTypeError(f"{op}: argument 'target' is None; expected a Tensor (or an array, a constant)")
    if not isinstance(target, Tensor):
        target = Tensor._make(_constant(op, "target", target, x), x._backend, False, None)
    elif target._backend is not x._backend:
        raise DeviceError(f"{op}: target is on '{target.device}' but the input is on '{x.device}'")
    elif not target.requires_grad and target.dtype != x.dtype:
        target = Tensor._make(target.data.astype(x.dtype), x._backend, False, None)
    if target.shape != x.shape:
        raise ShapeError(f"{op}: input has shape {x.shape} but target has shape {target.shape}; they must be "
                         f"equal (reshape one, e.g. target.reshape(-1, 1), to avoid silent broadcasting)")
    return target


# -- the functions ------------------------------------------------------------------------------------------
def cross_entropy(logits, target, weight=None, reduction="mean", label_smoothing=0.0):
    """Softmax cross-entropy of logits (N, C) against integer class indices target (N,), as PyTorch's.

    weight: optional per-class weights (C,). label_smoothing ε in [0, 1]: the target distribution is
    (1 - ε) onehot + ε / C. reduction "mean" divides by Σ weight[target] (N without weights).
    """
    _check_reduction("cross_entropy", reduction)
    _check_logits("cross_entropy", logits)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ArgumentError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    n, c = logits.shape
    t = _class_targets("cross_entropy", target, logits, n, c)
    w = _class_weight("cross_entropy", weight, logits)
    op = fast.choose("cross_entropy", logits._backend, weighted=w is not None, smoothing=float(label_smoothing))
    return (op or CrossEntropy)(t, w, reduction, float(label_smoothing))(logits)


def nll_loss(log_probs, target, weight=None, reduction="mean"):
    """Negative log-likelihood of log-probabilities (N, C) at integer class indices target (N,)."""
    _check_reduction("nll_loss", reduction)
    _check_logits("nll_loss", log_probs, "log-probabilities")
    n, c = log_probs.shape
    t = _class_targets("nll_loss", target, log_probs, n, c)
    return NLLLoss(t, _class_weight("nll_loss", weight, log_probs), reduction)(log_probs)


def binary_cross_entropy(p, target, weight=None, reduction="mean"):
    """Binary cross-entropy of probabilities p in [0, 1] against targets of p's shape (logs clamped at -100).

    weight: optional, broadcast against p (rescales each element's loss).
    """
    _check_reduction("binary_cross_entropy", reduction)
    target = _pair_target("binary_cross_entropy", p, target)
    if p.size and bool(((p.data < 0) | (p.data > 1)).any()):
        raise ArgumentError("binary_cross_entropy: input must hold probabilities in [0, 1] (apply sigmoid first, "
                         "or use binary_cross_entropy_with_logits on the raw scores)")
    return BinaryCrossEntropy(reduction, _constant("binary_cross_entropy", "weight", weight, p))(p, target)


def binary_cross_entropy_with_logits(logits, target, weight=None, reduction="mean", pos_weight=None):
    """Binary cross-entropy on logits (sigmoid and BCE fused, finite for any logit), as PyTorch's.

    weight: optional, broadcast against logits. pos_weight: optional weight of the positive class,
    broadcast along the last axis (one per class): loss = -(pos_weight t log σ(x) + (1 - t) log(1 - σ(x))).
    """
    op = "binary_cross_entropy_with_logits"
    _check_reduction(op, reduction)
    target = _pair_target(op, logits, target)
    return BinaryCrossEntropyWithLogits(reduction, _constant(op, "weight", weight, logits),
                                        _constant(op, "pos_weight", pos_weight, logits))(logits, target)


def mse_loss(input, target, reduction="mean"):
    """Mean squared error: (input - target)², reduced."""
    _check_reduction("mse_loss", reduction)
    return MSELoss(reduction)(input, _pair_target("mse_loss", input, target))


def l1_loss(input, target, reduction="mean"):
    """Mean absolute error: |input - target|, reduced."""
    _check_reduction("l1_loss", reduction)
    return L1Loss(reduction)(input, _pair_target("l1_loss", input, target))


def huber_loss(input, target, reduction="mean", delta=1.0):
    """Huber loss: (d²/2 where |d| <= delta, else delta (|d| - delta/2)), d = input - target, reduced."""
    _check_reduction("huber_loss", reduction)
    if not delta > 0:
        raise ArgumentError(f"huber_loss: delta must be positive, got {delta!r}")
    return HuberLoss(reduction, float(delta))(input, _pair_target("huber_loss", input, target))


def one_hot(indices, num_classes=-1):
    """Integer class indices (any shape) -> int64 one-hot tensor of shape indices.shape + (num_classes,).

    num_classes=-1 takes max(indices) + 1, as PyTorch. No gradient.
    """
    if not isinstance(indices, Tensor):
        indices = tensor(indices)
    xp = indices.backend.xp
    t = indices.data
    if t.dtype.kind not in "iu":
        raise DTypeError(f"one_hot: indices must be integers, got dtype {t.dtype}")
    if not isinstance(num_classes, numbers.Integral):
        raise ArgumentTypeError(f"one_hot: num_classes must be a positive int (or -1 to infer), got {num_classes!r}")
    if num_classes < 1 and num_classes != -1:
        raise ArgumentError(f"one_hot: num_classes must be a positive int (or -1 to infer), got {num_classes!r}")
    if num_classes == -1:
        if t.size == 0:
            raise ArgumentError("one_hot: cannot infer num_classes from empty indices")
        num_classes = int(t.max()) + 1
    if t.size:
        bad = (t < 0) | (t >= num_classes)
        if bool(bad.any()):
            raise ArgumentError(f"one_hot: index {int(t[bad][0])} is out of bounds for num_classes={num_classes}")
    result = (t[..., None] == xp.arange(num_classes)).astype("int64")
    return Tensor._make(result, indices.backend, False, None)
