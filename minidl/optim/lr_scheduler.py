"""Learning-rate schedules: StepLR, ExponentialLR, CosineAnnealingLR, ReduceLROnPlateau, LambdaLR (PyTorch's),
and WarmupCosine, the warm-up + cosine factor of the language-model recipes (for LambdaLR).

A scheduler owns no rate of its own: it rewrites `group["lr"]` in every param group of its optimizer.
Call `step()` once per epoch, after the epoch's optimizer steps (ReduceLROnPlateau: `step(metric)`).

    sched = StepLR(opt, step_size=10, gamma=0.1)
    for epoch in range(30):
        train_one_epoch(opt)
        sched.step()          # lr: 0.1 for epochs 0-9, 0.01 for 10-19, 0.001 for 20-29

The first three follow PyTorch's recursive forms (each new rate is computed from the current one), so
a rate changed by hand, or by another scheduler, carries on. Creating one records each group's
starting rate as `group["initial_lr"]` (as PyTorch does), which `base_lrs` are read from.
"""

import math
import numbers

from minidl.errors import ArgumentError, ArgumentTypeError
from minidl.optim.optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses implement `get_lr()`, the rates for epoch `self.last_epoch`.

    Args:
        optimizer:  the Optimizer whose param groups' "lr" this scheduler sets
        last_epoch: -1 for a new run; when resuming, the index of the last finished epoch (the groups
                    must then hold "initial_lr", as a loaded optimizer state dict does)
    """

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise ArgumentTypeError(f"{type(self).__name__} needs a minidl Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{type(self).__name__}(last_epoch={last_epoch}): param group {i} has no "
                                   f"'initial_lr'; resume by loading the optimizer's state dict first, or "
                                   f"start with last_epoch=-1")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True  # the step() below sets the epoch-0 rates
        self.step()
        self._is_initial = False

    def get_lr(self):
        raise NotImplementedError

    def step(self):
        """Advance one epoch and write the new rate into every param group."""
        self._step_count += 1
        self.last_epoch += 1
        values = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The rates (one per param group) that the last `step()` set."""
        return list(self._last_lr)

    def state_dict(self):
        """Everything but the optimizer: numbers and lists only (safe for `mdl.save`)."""
        return {key: (list(value) if isinstance(value, list) else value)
                for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update({key: value for key, value in state_dict.items() if key != "optimizer"})

    def _current_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]


class StepLR(LRScheduler):
    """StepLR(optimizer, step_size, gamma=0.1): multiply the rate by gamma every `step_size` epochs.

    lr(epoch) = base_lr · gamma ** (epoch // step_size)
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise ArgumentError(f"StepLR: step_size must be a positive integer (epochs), got {step_size!r}")
        _check_gamma("StepLR", gamma)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class ExponentialLR(LRScheduler):
    """ExponentialLR(optimizer, gamma): multiply the rate by gamma every epoch.

    lr(epoch) = base_lr · gamma ** epoch
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        _check_gamma("ExponentialLR", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class CosineAnnealingLR(LRScheduler):
    """CosineAnnealingLR(optimizer, T_max, eta_min=0): half a cosine from base_lr down to eta_min.

    lr(epoch) = eta_min + (base_lr - eta_min) · (1 + cos(π · epoch / T_max)) / 2, computed as PyTorch
    does, recursively from the current rate; past T_max it rises again (period 2·T_max).
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if isinstance(T_max, bool) or not isinstance(T_max, int) or T_max < 1:
            raise ArgumentError(f"CosineAnnealingLR: T_max must be a positive integer (epochs), got {T_max!r}")
        if not isinstance(eta_min, numbers.Real) or not eta_min >= 0:
            raise ArgumentError(f"CosineAnnealingLR: eta_min must be a number >= 0, got {eta_min!r}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        epoch, T_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and epoch > 0:  # resumed at a later epoch: closed form
            return [eta_min + (base_lr - eta_min) * (1 + math.cos(epoch * math.pi / T_max)) / 2
                    for base_lr in self.base_lrs]
        if (epoch - 1 - T_max) % (2 * T_max) == 0:  # the bottom of the cosine: the recursion would divide by 0
            return [lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T_max)) / 2
                    for base_lr, lr in zip(self.base_lrs, self._current_lrs())]
        return [(1 + math.cos(math.pi * epoch / T_max)) / (1 + math.cos(math.pi * (epoch - 1) / T_max))
                * (lr - eta_min) + eta_min for lr in self._current_lrs()]


class ReduceLROnPlateau(LRScheduler):
    """ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
    threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8): cut the rate when a metric stalls.

    Call `step(metric)` once per epoch with the validation metric. An epoch is better when
        mode="min", rel:  metric < best · (1 - threshold)      abs:  metric < best - threshold
        mode="max", rel:  metric > best · (1 + threshold)      abs:  metric > best + threshold
    After more than `patience` epochs in a row without improvement, every group's rate becomes
    max(lr · factor, min_lr) (changes smaller than eps are skipped), and `cooldown` epochs follow in
    which bad epochs are not counted. `min_lr` is one number or a list with one per param group.
    (Like PyTorch's, it is an LRScheduler whose base __init__ is not used: it has no schedule.)
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0, eps=1e-8):
        if not isinstance(optimizer, Optimizer):
            raise ArgumentTypeError(f"ReduceLROnPlateau needs a minidl Optimizer, got {type(optimizer).__name__}")
        if mode not in ("min", "max"):
            raise ArgumentError(f"ReduceLROnPlateau: mode must be 'min' (loss) or 'max' (accuracy), got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ArgumentError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        if not isinstance(factor, numbers.Real) or not 0 <= factor < 1:
            raise ArgumentError(f"ReduceLROnPlateau: factor must be in [0, 1) (the rate is multiplied by it), "
                                f"got {factor!r}")
        for key, value in (("patience", patience), ("cooldown", cooldown)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ArgumentError(f"ReduceLROnPlateau: {key} must be an integer >= 0 (epochs), got {value!r}")
        for key, value in (("threshold", threshold), ("eps", eps)):
            if not isinstance(value, numbers.Real) or not value >= 0:
                raise ArgumentError(f"ReduceLROnPlateau: {key} must be a number >= 0, got {value!r}")
        self.optimizer = optimizer
        n_groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n_groups:
                raise ArgumentError(f"ReduceLROnPlateau: min_lr has {len(min_lr)} values, but the optimizer has "
                                    f"{n_groups} param group(s); give one per group or a single number")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * n_groups
        for value in self.min_lrs:
            if not isinstance(value, numbers.Real) or not value >= 0:
                raise ArgumentError(f"ReduceLROnPlateau: min_lr must be >= 0, got {min_lr!r}")
        self.mode = mode
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def step(self, metrics):
        """Record one epoch's metric (a number or a one-element Tensor); reduce the rates if it stalled."""
        current = float(metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def is_better(self, a, best):
        if self.mode == "min":
            return a < best * (1.0 - self.threshold) if self.threshold_mode == "rel" else a < best - self.threshold
        return a > best * (self.threshold + 1.0) if self.threshold_mode == "rel" else a > best + self.threshold

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"ReduceLROnPlateau: the optimizer now has {len(groups)} param groups but "
                                   f"min_lr lists {len(self.min_lrs)}; set .min_lrs to one value per group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr


class LambdaLR(LRScheduler):
    """LambdaLR(optimizer, lr_lambda): the rate is the base rate times a factor of the step count.

    lr(epoch) = base_lr · lr_lambda(epoch)

    `lr_lambda` is a function of the epoch (or, stepped once per iteration, of the iteration), or a list
    with one per param group. Its state dict holds the counters only, not the functions (PyTorch keeps
    lambdas out too): rebuild the scheduler with the same functions, then load it. `WarmupCosine` is the
    factor of the language-model recipes: `LambdaLR(opt, WarmupCosine(warmup=100, total=2000))`.
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        n_groups = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n_groups
        if isinstance(lr_lambda, (list, tuple)) and len(lambdas) != n_groups:
            raise ArgumentError(f"LambdaLR: {len(lambdas)} lr_lambdas for {n_groups} param group(s); give one "
                                f"function, or one per group")
        if not all(callable(f) for f in lambdas):
            raise ArgumentTypeError(f"LambdaLR: lr_lambda must be a function of the epoch (or a list of them), "
                                    f"got {lr_lambda!r}")
        self.lr_lambdas = lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base_lr * f(self.last_epoch) for base_lr, f in zip(self.base_lrs, self.lr_lambdas)]

    def state_dict(self):
        state = super().state_dict()
        state.pop("lr_lambdas")
        return state

    def load_state_dict(self, state_dict):
        super().load_state_dict({key: value for key, value in state_dict.items() if key != "lr_lambdas"})


class WarmupCosine:
    """WarmupCosine(warmup, total, min_factor=0.0): a linear warm-up, then half a cosine down (a factor for LambdaLR).

    factor(step) = (step + 1) / (warmup + 1)                               for step < warmup
                 = min_factor + (1 - min_factor) · (1 + cos(π · r)) / 2    for warmup <= step <= total,
                   r = (step - warmup) / (total - warmup)
                 = min_factor                                              for step > total
    nanoGPT's get_lr with min_lr = min_factor · lr: the rate climbs over `warmup` steps (large early steps
    of Adam on fresh attention weights diverge), then decays smoothly to min_factor · lr at step `total`.
    """

    def __init__(self, warmup, total, min_factor=0.0):
        if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
            raise ArgumentError(f"WarmupCosine: warmup must be an integer >= 0 (steps), got {warmup!r}")
        if isinstance(total, bool) or not isinstance(total, int) or total <= warmup:
            raise ArgumentError(f"WarmupCosine: total must be an integer > warmup ({warmup}), got {total!r}")
        if not isinstance(min_factor, numbers.Real) or not 0 <= min_factor <= 1:
            raise ArgumentError(f"WarmupCosine: min_factor must be a number in [0, 1], got {min_factor!r}")
        self.warmup, self.total, self.min_factor = warmup, total, min_factor

    def __call__(self, step):
        if step < self.warmup:
            return (step + 1) / (self.warmup + 1)
        if step > self.total:
            return self.min_factor
        ratio = (step - self.warmup) / (self.total - self.warmup)
        return self.min_factor + (1 - self.min_factor) * (1 + math.cos(math.pi * ratio)) / 2

    def __repr__(self):
        return f"WarmupCosine(warmup={self.warmup}, total={self.total}, min_factor={self.min_factor})"


def _check_gamma(owner, gamma):
    if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) or not gamma >= 0:
        raise ArgumentError(f"{owner}: gamma must be a number >= 0 (the rate is multiplied by it), got {gamma!r}")
