"""`Monitor`: a training callback that looks inside the network while it trains.

    monitor = Monitor(every=10)
    trainer = Trainer(model, loss_fn, optimizer, callbacks=[monitor])
    trainer.fit(train, val=val, epochs=20)
    monitor.report()                          # dead ReLUs, vanishing / exploding gradients, per-layer stats
    plot_activation_histograms(monitor)       # from monitor.records
    plot_gradient_histograms(monitor)

Every `every`-th training batch (counted across epochs, the first included) it records:
- for each watched layer, through a forward hook: its output's mean, std, fraction of exact zeros,
  min, max, and a random sample of its values (for histograms): an `ActivationStats`;
- after backward (in `on_batch_end`, after the optimizer step; the gradients are still there until the
  next `zero_grad`): for each parameter, the norm of `.grad`, its ratio to the largest norm of that
  step, and a sample of its entries: a `GradientStats`.

Everything kept is a NumPy host copy (`Tensor.numpy()`) or a float: no Tensor is stored, so the graph
of a recorded batch is freed as usual. The hooks are registered at train begin and removed at train end
(`attach`/`detach` do the same for a hand-written loop; call `on_batch_begin`/`on_batch_end` around a
step to record it).

What it flags (`issues()`, `report()`):
- dead ReLU units: units of an `nn.ReLU` layer whose output was exactly 0 for every sample recorded
  (a unit is an output feature of an (N, F) output, a channel of an (N, C, ...) one: zero at every
  position of every sample);
- vanishing gradients: ‖g‖ < `vanish_threshold` (1e-7), or ‖g‖ < `vanish_ratio` (1e-4) × the largest
  parameter gradient norm of the same step (unless that largest one is itself exploding: then the
  explosion is the story, not the others' smallness);
- exploding gradients: ‖g‖ > `explode_threshold` (1e3), or a non-finite gradient;
- non-finite activations.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from minidl.nn import Dropout, Flatten, Identity, Module, ReLU
from minidl.tensor import Tensor
from minidl.train.callbacks import Callback

# Layers watched by default: every leaf module but these pass-throughs (Dropout's zeros are not dead units).
_SKIPPED = (Flatten, Identity, Dropout)


@dataclass
class ActivationStats:
    """One layer's output at one recorded training step."""

    epoch: int
    batch: int
    step: int                 # training batches since train begin (0-based), across epochs
    shape: tuple
    mean: float
    std: float
    zero_fraction: float      # fraction of entries exactly 0
    min: float
    max: float
    finite: bool              # every entry finite
    sample: np.ndarray = field(repr=False)  # up to `sample_size` output values, drawn at random


@dataclass
class GradientStats:
    """One parameter's gradient at one recorded training step."""

    epoch: int
    batch: int
    step: int
    shape: tuple
    norm: float               # ‖grad‖₂ (inf or nan when not finite)
    ratio: float              # norm / the largest finite norm among the parameters at this step
    finite: bool
    sample: np.ndarray = field(repr=False)  # up to `sample_size` gradient entries, drawn at random


class Monitor(Callback):
    """Record activation and gradient statistics every `every` training batches; flag dead ReLU units,
    vanishing and exploding gradients (see the module docstring).

    Args:
        every:             record every N-th training batch (1: every batch)
        layers:            which modules to watch: names (as in `model.named_modules()`, e.g. "1" or
                           "features.0") and/or module classes (e.g. `nn.ReLU`); default: every leaf
                           module but Flatten, Identity and Dropout
        sample_size:       values kept per layer and per parameter at each recorded step, for histograms
        vanish_threshold:  a gradient norm below this is vanishing
        vanish_ratio:      ... and so is one below this fraction of the step's largest gradient norm
        explode_threshold: a gradient norm above this (or non-finite) is exploding
        seed:              seeds the sampling of values for histograms

    After (or during) training:
        records:      {"activations": {layer: [ActivationStats]}, "gradients": {param: [GradientStats]}}
        dead_units:   {ReLU layer: indices of its dead units}; dead_counts: {layer: (dead, units)}
        vanishing, exploding: {param: {"steps": count, "of": recorded steps, ...}}
        issues():     the flags as readable sentences (empty: all healthy); report(): the full summary
    """

    def __init__(self, every=10, layers=None, sample_size=1000, vanish_threshold=1e-7, vanish_ratio=1e-4,
                 explode_threshold=1e3, seed=0):
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"Monitor: every must be an integer >= 1 (record every N-th batch), got {every!r}")
        if isinstance(sample_size, bool) or not isinstance(sample_size, int) or sample_size < 1:
            raise ValueError(f"Monitor: sample_size must be an integer >= 1, got {sample_size!r}")
        self.every = every
        self.layers = layers
        self.sample_size = sample_size
        self.vanish_threshold = float(vanish_threshold)
        self.vanish_ratio = float(vanish_ratio)
        self.explode_threshold = float(explode_threshold)
        self.seed = seed
        self._handles = []
        self._reset()

    def _reset(self):
        self.records = {"activations": {}, "gradients": {}}
        self.recorded_steps = 0
        self._rng = np.random.default_rng(self.seed)
        self._recording = False
        self._step = 0
        self._epoch = 0
        self._batch = 0
        self._relu_layers = set()
        self.layer_types = {}     # watched layer name -> its class name, for titles
        self._alive = {}          # ReLU layer -> bool per unit: nonzero for at least one recorded sample
        self._samples_seen = {}   # ReLU layer -> samples recorded
        self._grad_flags = {}     # (kind, param) -> {"steps", "worst"}
        self._nonfinite_activations = {}

    # -- attaching ----------------------------------------------------------------------------------------------
    def attach(self, model):
        """Register the forward hooks on `model`'s watched layers (Trainer does this at train begin)."""
        if not isinstance(model, Module):
            raise TypeError(f"Monitor.attach: expected an nn.Module, got {type(model).__name__}")
        self.detach()
        self._reset()
        self.model = model
        for name, module in self._watched(model):
            if isinstance(module, ReLU):
                self._relu_layers.add(name)
            self.records["activations"][name] = []
            self.layer_types[name] = type(module).__name__
            self._handles.append(module.register_forward_hook(self._hook(name)))
        return self

    def detach(self):
        """Remove every hook this Monitor registered (Trainer does this at train end)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._recording = False

    def _watched(self, model):
        named = [(name, m) for name, m in model.named_modules() if name]
        if self.layers is None:
            chosen = [(n, m) for n, m in named if not m._modules and not isinstance(m, _SKIPPED)]
            return chosen or [(type(model).__name__, model)]
        wanted = [self.layers] if isinstance(self.layers, (str, type)) else list(self.layers)
        names = {n for n, _ in named}
        unknown = [w for w in wanted if isinstance(w, str) and w not in names]
        if unknown:
            raise ValueError(f"Monitor: no layer named {unknown} in the model; its layers: {sorted(names)}")
        return [(n, m) for n, m in named
                if any(n == w if isinstance(w, str) else isinstance(m, w) for w in wanted)]

    def _hook(self, name):
        def hook(module, inputs, output):
            if self._recording and isinstance(output, Tensor):
                self._record_activation(name, output)
            return None

        return hook

    # -- callback hooks -------------------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self.attach(self.trainer.model)

    def on_train_end(self, logs=None):
        self.detach()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_begin(self, batch, logs=None):
        self._batch = batch
        self._recording = self._step % self.every == 0
        self._step += 1

    def on_batch_end(self, batch, logs=None):
        if self._recording:
            self._record_gradients()
            self.recorded_steps += 1
        self._recording = False

    # -- recording -------------------------------------------------------------------------------------------------
    def _sample(self, values):
        flat = values.ravel()
        if flat.size <= self.sample_size:
            return flat.copy()
        return flat[self._rng.choice(flat.size, self.sample_size, replace=False)]

    def _record_activation(self, name, output):
        a = output.numpy()  # a host copy: nothing of the graph is kept
        a64 = a.astype(np.float64, copy=False)
        finite = bool(np.isfinite(a64).all())
        ok = a64 if finite else a64[np.isfinite(a64)]
        stats = ActivationStats(
            epoch=self._epoch, batch=self._batch, step=self._step - 1, shape=tuple(a.shape),
            mean=float(ok.mean()) if ok.size else math.nan, std=float(ok.std()) if ok.size else math.nan,
            zero_fraction=float((a == 0).mean()) if a.size else 0.0,
            min=float(ok.min()) if ok.size else math.nan, max=float(ok.max()) if ok.size else math.nan,
            finite=finite, sample=self._sample(a))
        self.records["activations"].setdefault(name, []).append(stats)
        if not finite:
            self._nonfinite_activations[name] = self._nonfinite_activations.get(name, 0) + 1
        if name in self._relu_layers and a.ndim >= 1 and a.shape[0] > 0:
            nonzero = a != 0
            alive = nonzero.any(axis=tuple(k for k in range(a.ndim) if k != 1)) if a.ndim >= 2 else nonzero.any()[None]
            previous = self._alive.get(name)
            self._alive[name] = alive if previous is None or previous.shape != alive.shape else previous | alive
            self._samples_seen[name] = self._samples_seen.get(name, 0) + a.shape[0]

    def _record_gradients(self):
        step = []
        for name, p in self.model.named_parameters():
            if p.grad is None:
                continue
            g = p.grad.numpy()
            g64 = g.astype(np.float64, copy=False)
            finite = bool(np.isfinite(g64).all())
            norm = float(np.sqrt(np.sum(g64 * g64))) if finite else (math.nan if np.isnan(g64).any() else math.inf)
            step.append((name, g, norm, finite))
        largest = max((norm for _, _, norm, finite in step if finite), default=0.0)
        for name, g, norm, finite in step:
            ratio = norm / largest if largest > 0 and finite else (math.nan if not finite else 0.0)
            self.records["gradients"].setdefault(name, []).append(GradientStats(
                epoch=self._epoch, batch=self._batch, step=self._step - 1, shape=tuple(g.shape), norm=norm,
                ratio=ratio, finite=finite, sample=self._sample(g)))
            if not finite or norm > self.explode_threshold:
                self._flag("exploding", name, norm, worse=lambda new, old: not new <= old)
            elif norm < self.vanish_threshold or (0 < largest <= self.explode_threshold and ratio < self.vanish_ratio):
                self._flag("vanishing", name, norm, worse=lambda new, old: new < old)

    def _flag(self, kind, name, value, worse):
        entry = self._grad_flags.setdefault((kind, name), {"steps": 0, "worst": value})
        entry["steps"] += 1
        if worse(value, entry["worst"]):
            entry["worst"] = value

    # -- reading -----------------------------------------------------------------------------------------------------
    @property
    def dead_units(self):
        """{ReLU layer name: sorted indices of units that were 0 for every recorded sample}."""
        return {name: np.flatnonzero(~alive) for name, alive in self._alive.items()}

    @property
    def dead_counts(self):
        """{ReLU layer name: (dead units, units)}."""
        return {name: (int((~alive).sum()), int(alive.size)) for name, alive in self._alive.items()}

    def _flags(self, kind):
        return {name: {"steps": e["steps"], "of": self.recorded_steps, "worst_norm": e["worst"]}
                for (k, name), e in self._grad_flags.items() if k == kind}

    @property
    def vanishing(self):
        """{parameter: {"steps": recorded steps flagged, "of": recorded steps, "worst_norm": smallest ‖g‖}}."""
        return self._flags("vanishing")

    @property
    def exploding(self):
        """{parameter: {"steps": recorded steps flagged, "of": recorded steps, "worst_norm": largest ‖g‖}}."""
        return self._flags("exploding")

    def issues(self):
        """Every flag as a sentence; an empty list when nothing looked wrong."""
        out = []
        for name, (dead, units) in self.dead_counts.items():
            if dead:
                which = self.dead_units[name]
                shown = ", ".join(map(str, which[:12])) + (", ..." if dead > 12 else "")
                out.append(f"dead ReLU units in layer {name!r}: {dead} of {units} gave 0 for every one of the "
                           f"{self._samples_seen[name]} samples recorded (units {shown})")
        for name, e in self.vanishing.items():
            out.append(f"vanishing gradient in {name!r}: ‖g‖ below {self.vanish_threshold:g} or below "
                       f"{self.vanish_ratio:g} × the largest at {e['steps']} of {e['of']} recorded steps "
                       f"(smallest ‖g‖ {e['worst_norm']:.3g})")
        for name, e in self.exploding.items():
            out.append(f"exploding gradient in {name!r}: ‖g‖ above {self.explode_threshold:g} or not finite at "
                       f"{e['steps']} of {e['of']} recorded steps (largest ‖g‖ {e['worst_norm']:.3g})")
        for name, count in self._nonfinite_activations.items():
            out.append(f"non-finite activations (inf or nan) in layer {name!r} at {count} recorded steps")
        return out

    @property
    def healthy(self):
        return not self.issues()

    def report(self, show=True):
        """A readable summary: per-layer activation statistics, per-parameter gradient norms, and the
        issues found. Printed unless `show=False`; returned as a string."""
        lines = [f"Monitor: {self.recorded_steps} recorded training steps (every {self.every} batches)"]
        if self.records["activations"]:
            rows = [("layer", "output shape", "mean", "std", "zeros", "dead units")]
            for name, stats in self.records["activations"].items():
                if not stats:
                    continue
                s = stats[-1]
                dead = self.dead_counts.get(name)
                label = f"{name} ({self.layer_types[name]})" if name in self.layer_types else name
                rows.append((label, str(s.shape), f"{s.mean:.4g}", f"{s.std:.4g}", f"{s.zero_fraction:.1%}",
                             "" if dead is None else f"{dead[0]} / {dead[1]}"))
            lines += ["", "activations at the last recorded step:"] + _table(rows)
        if self.records["gradients"]:
            rows = [("parameter", "shape", "|g| last", "|g| min", "|g| max", "flag")]
            for name, stats in self.records["gradients"].items():
                norms = [s.norm for s in stats]
                flag = "EXPLODING" if name in self.exploding else "vanishing" if name in self.vanishing else ""
                rows.append((name, str(stats[-1].shape), f"{norms[-1]:.3g}", f"{min(norms):.3g}", f"{max(norms):.3g}",
                             flag))
            lines += ["", "gradient norms over the recorded steps:"] + _table(rows)
        issues = self.issues()
        lines += [""] + ([f"{len(issues)} issue(s):"] + [f"  - {text}" for text in issues] if issues else
                         ["no issues: no dead ReLU units, no vanishing or exploding gradients"])
        text = "\n".join(lines)
        if show:
            print(text)
        return text


def _table(rows):
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
