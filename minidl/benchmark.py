"""`minidl bench`: train the same small models on every available backend and compare them.

Models (float32, SGD with momentum 0.9, cross-entropy on random data of the right shape):
    mlp     784-256-128-10 with ReLU
    lenet   LeNet-5 on 28x28 inputs: conv 1->6 k5, ReLU, max-pool 2, conv 6->16 k5, ReLU, max-pool 2,
            256-120-84-10 with ReLU
    gpt     nanoGPT's CPU recipe (`--models gpt`, not in the default set): 4 layers, 4 heads, 128 wide,
            vocabulary 65, one batch of 12 sequences of 64 tokens (the batch sizes do not apply)
Backends: minidl "cpu", minidl "cuda" (when `mdl.cuda.is_available()`), PyTorch CPU, and PyTorch CUDA
(when available). PyTorch runs the same layers with the same initial weights.

How it times (see benchmarks/README.md for why):
    - a warm-up first, then blocks of at least `--block` seconds per implementation, alternating between
      implementations, `--rounds` times; a block's time is its mean step; each figure is the median over
      rounds. Interleaving single steps of PyTorch and NumPy would let PyTorch's OpenMP threads spin on
      the cores NumPy needs.
    - GPU work is synchronised (`backend.synchronize()`, `torch.cuda.synchronize()`) before every clock read.
    - the forward (+ loss) / backward / update split comes from clock reads between the phases of each step.
    - the matrix-product rate of the device (float32 GEMM, 2 threads on this CPU) is measured at start,
      and each step is reported as the fraction of that rate its matrix products reach.

Writes into `--out`: results.json (everything), results.md (a table), throughput.png (samples/s against
batch size). `--quick` is a smoke run of a few milliseconds per block (used by the tests).
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import minidl as mdl
from minidl import nn
from minidl.nn.transformer import GPT as TransformerGPT
from minidl.cli.args import Parser, float_in, output_folder, positive_int  # one-line errors, exit status 2
from minidl.nn import functional as F
from minidl.step_profile import format_shares, profile_shares

MODELS = ("mlp", "lenet")
INPUT_SHAPES = {"mlp": (784,), "lenet": (1, 28, 28)}
# The language model: token ids in, next-token logits out; its batch is fixed (nanoGPT's CPU recipe).
GPT = dict(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128, batch=12)
LR, MOMENTUM = 0.01, 0.9


# ---------------------------------------------------------------------------------------------------
# The models, in minidl and in PyTorch (same layers, same weights).
# ---------------------------------------------------------------------------------------------------
def build_minidl(model, device="cpu"):
    """The minidl model `model` ("mlp" or "lenet") on `device`, float32."""
    if model == "mlp":
        net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    elif model == "lenet":
        net = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                            nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
        net = nn.fuse(net)  # each Conv2d -> ReLU -> MaxPool2d as one layer (same values, state-dict keys)
    elif model == "gpt":
        net = TransformerGPT(GPT["vocab_size"], GPT["block_size"], n_layer=GPT["n_layer"], n_head=GPT["n_head"],
                             n_embd=GPT["n_embd"])
    else:
        raise ValueError(f"unknown model {model!r}: expected one of {MODELS + ('gpt',)}")
    return net.to(device) if device != "cpu" else net


def build_torch(model, like, device="cpu"):
    """The PyTorch twin of `build_minidl(model)`, with the weights of the minidl model `like`."""
    import torch
    tnn = torch.nn
    if model == "mlp":
        net = tnn.Sequential(tnn.Linear(784, 256), tnn.ReLU(), tnn.Linear(256, 128), tnn.ReLU(), tnn.Linear(128, 10))
    elif model == "gpt":
        net = torch_gpt(torch, GPT["vocab_size"], GPT["block_size"], GPT["n_layer"], GPT["n_head"], GPT["n_embd"])
    else:
        net = tnn.Sequential(tnn.Conv2d(1, 6, 5), tnn.ReLU(), tnn.MaxPool2d(2),
                             tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2), tnn.Flatten(),
                             tnn.Linear(256, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10))
    state = {key: torch.from_numpy(np.array(value if isinstance(value, np.ndarray) else value.get()))
             for key, value in like.state_dict().items()}
    net.load_state_dict(state)
    return net.to(device)


def torch_gpt(torch, vocab_size, block_size, n_layer, n_head, n_embd):
    """nanoGPT's model.py GPT in PyTorch with minidl.nn.transformer.GPT's parameter names (no dropout, no
    weight tying): the benchmark's PyTorch side, and the reference of tests/test_sequence_layers.py."""
    tnn, F_ = torch.nn, torch.nn.functional
    c, heads = n_embd, n_head

    class Attention(tnn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn, self.c_proj = tnn.Linear(c, 3 * c), tnn.Linear(c, c)

        def forward(self, x):
            b, t, _ = x.shape
            q, k, v = (z.view(b, t, heads, c // heads).transpose(1, 2) for z in self.c_attn(x).split(c, dim=2))
            y = F_.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.c_proj(y.transpose(1, 2).contiguous().view(b, t, c))

    class MLP(tnn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc, self.gelu, self.c_proj = tnn.Linear(c, 4 * c), tnn.GELU(), tnn.Linear(4 * c, c)

        def forward(self, x):
            return self.c_proj(self.gelu(self.c_fc(x)))

    class Block(tnn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.attn, self.ln_2, self.mlp = tnn.LayerNorm(c), Attention(), tnn.LayerNorm(c), MLP()

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class Model(tnn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = tnn.ModuleDict(dict(
                wte=tnn.Embedding(vocab_size, c), wpe=tnn.Embedding(block_size, c),
                h=tnn.ModuleList([Block() for _ in range(n_layer)]), ln_f=tnn.LayerNorm(c)))
            self.lm_head = tnn.Linear(c, vocab_size, bias=False)

        def forward(self, idx):
            tr = self.transformer
            x = tr.wte(idx) + tr.wpe(torch.arange(idx.shape[1], device=idx.device))
            for block in tr.h:
                x = block(x)
            return self.lm_head(tr.ln_f(x))

    return Model()


def _batch(model, batch, rng):
    """Random inputs and integer targets of one step: images/features and classes, or token ids (gpt)."""
    if model == "gpt":
        shape = (batch, GPT["block_size"])
        return rng.integers(0, GPT["vocab_size"], shape), rng.integers(0, GPT["vocab_size"], shape)
    x = rng.standard_normal((batch,) + INPUT_SHAPES[model], dtype=np.float32)
    return x, rng.integers(0, 10, batch)


def matmul_flops(model, batch, training=True):
    """Floating-point operations of the matrix products of one step (2 per multiply-add).

    Training counts forward, the weight gradients and the input gradients (none for the first layer,
    whose input needs no gradient); inference counts the forward only.
    """
    if model == "gpt":  # per token: q, k, v, projection and MLP products, two attention products (T·C each), head
        c, t = GPT["n_embd"], GPT["block_size"]
        forward = 2 * batch * t * (GPT["n_layer"] * (12 * c * c + 2 * t * c) + c * GPT["vocab_size"])
        return 3 * forward if training else forward
    if model == "mlp":
        layers = [784 * 256, 256 * 128, 128 * 10]
    else:  # multiply-adds per sample: output positions x output channels x window size
        layers = [24 * 24 * 6 * 25, 8 * 8 * 16 * 150, 256 * 120, 120 * 84, 84 * 10]
    forward = 2 * batch * sum(layers)
    if not training:
        return forward
    return 3 * forward - 2 * batch * layers[0]


# ---------------------------------------------------------------------------------------------------
# Runners: one model, one backend, one batch size; step() is one training step.
# ---------------------------------------------------------------------------------------------------
class Runner:
    """One framework on one device: a model, a batch and SGD momentum. Subclasses give `loss()`
    (forward + cross-entropy) and `sync()` (wait for the device)."""

    def step(self):
        self.opt.zero_grad()
        self.loss().backward()
        self.opt.step()

    def phases(self):
        """One step; returns the seconds of (forward + loss, backward, update)."""
        clock, sync = time.perf_counter, self.sync
        t0 = clock()
        self.opt.zero_grad()
        loss = self.loss()
        sync()
        t1 = clock()
        loss.backward()
        sync()
        t2 = clock()
        self.opt.step()
        sync()
        return t1 - t0, t2 - t1, clock() - t2


class MinidlRunner(Runner):
    """minidl on `device`: forward, cross-entropy, backward, SGD momentum (in place)."""

    framework = "minidl"

    def __init__(self, model, batch, device="cpu", seed=0, net=None):
        self.model, self.batch, self.device = model, batch, device
        mdl.get_backend("cpu").tuning.enable()  # benchmarks run tuned: keep freed memory, threads (CpuTuning)
        mdl.manual_seed(seed)
        self.net = net if net is not None else build_minidl(model, device)
        self.backend = mdl.get_backend(device)
        x, t = _batch(model, batch, np.random.default_rng(seed))
        self.x, self.t = mdl.tensor(x, device=device), mdl.tensor(t, device=device)
        self.opt = mdl.optim.SGD(self.net.parameters(), lr=LR, momentum=MOMENTUM)
        self.name = f"minidl {device}"

    def sync(self):
        self.backend.synchronize()

    def loss(self):
        out = self.net(self.x)
        if out.ndim == 3:  # gpt: (B, T, V) logits, (B, T) targets
            return F.cross_entropy(out.reshape(-1, out.shape[-1]), self.t.reshape(-1))
        return F.cross_entropy(out, self.t)

    def infer(self):
        with mdl.no_grad():
            self.net(self.x)


class TorchRunner(Runner):
    """PyTorch on `device` with the weights of a minidl model: the same step as MinidlRunner."""

    framework = "torch"

    def __init__(self, model, batch, like, device="cpu", seed=0):
        import torch
        self.torch = torch
        self.model, self.batch, self.device = model, batch, device
        self.net = build_torch(model, like, device)
        x, t = _batch(model, batch, np.random.default_rng(seed))
        self.x, self.t = torch.from_numpy(x).to(device), torch.from_numpy(t).to(device)
        self.opt = torch.optim.SGD(self.net.parameters(), lr=LR, momentum=MOMENTUM)
        self.loss_fn = torch.nn.functional.cross_entropy
        self.name = f"torch {device}"

    def sync(self):
        if self.device != "cpu":
            self.torch.cuda.synchronize()

    def loss(self):
        out = self.net(self.x)
        return self.loss_fn(out.reshape(-1, out.shape[-1]), self.t.reshape(-1))

    def infer(self):
        with self.torch.no_grad():
            self.net(self.x)


# ---------------------------------------------------------------------------------------------------
# Timing.
# ---------------------------------------------------------------------------------------------------
def time_block(fn, sync, min_time, warmup=2, min_steps=3):
    """Mean seconds per call of `fn` over a block of at least `min_time` seconds (after `warmup` calls)."""
    for _ in range(warmup):
        fn()
    sync()
    clock = time.perf_counter
    n, start = 0, clock()
    while True:
        fn()
        n += 1
        if n >= min_steps:
            sync()
            elapsed = clock() - start
            if elapsed >= min_time:
                return elapsed / n


def time_phases(runner, min_time, warmup=2, min_steps=3):
    """Mean (forward, backward, update) seconds per step over a block of at least `min_time` seconds."""
    for _ in range(warmup):
        runner.phases()
    totals, n, clock = [0.0, 0.0, 0.0], 0, time.perf_counter
    start = clock()
    while n < min_steps or clock() - start < min_time:
        for k, seconds in enumerate(runner.phases()):
            totals[k] += seconds
        n += 1
    return [total / n for total in totals]


UNSTABLE_SPREAD = 0.25  # (slowest - fastest) / median round above this: the figure is flagged as unstable


def round_spread(times):
    """(slowest - fastest) / median of the rounds' times; None with fewer than 2 rounds (nothing to compare)."""
    if len(times) < 2:
        return None
    return (max(times) - min(times)) / statistics.median(times)


def split_of_step(step, phases):
    """The step's time divided among forward, backward and update in the proportions `phases` measured.

    The phases are timed in a block of their own, with a synchronisation between them (which the step
    does not have), so their sum is not the step's time, and in short blocks it is noisy: its proportions
    are the measurement, and the parts then add up to the step exactly.
    """
    total = sum(phases)
    if total <= 0:
        return [step / len(phases)] * len(phases)
    return [step * p / total for p in phases]


def alternate(fns, rounds, min_time, sync=None):
    """Time each of `fns` (name -> zero-argument callable) in alternating blocks of >= `min_time` s.

    Returns {name: [seconds per call, one per round]}. Each block starts with its own warm-up, so that
    the previous block's threads have gone quiet before its clock starts.
    """
    sync = sync or {}
    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            times[name].append(time_block(fn, sync.get(name, _nothing), min_time))
    return times


def _nothing():
    pass


def gemm_rate(xp=np, n=1024, min_time=0.3, sync=_nothing):
    """Measured float32 matrix-product rate of `xp`'s device in FLOP/s (n x n times n x n, best block)."""
    a = xp.ones((n, n), dtype=np.float32)
    b = xp.ones((n, n), dtype=np.float32)
    c = xp.empty((n, n), dtype=np.float32)
    step = lambda: xp.matmul(a, b, out=c)  # noqa: E731
    best = min(time_block(step, sync, min_time) for _ in range(3))
    return 2.0 * n ** 3 / best


def ratio_stats(values):
    """Median and (min, max) of a list of numbers."""
    return statistics.median(values), (min(values), max(values))


# ---------------------------------------------------------------------------------------------------
# The harness behind `minidl bench`.
# ---------------------------------------------------------------------------------------------------
def available_backends(with_torch=True):
    """[(framework, device)] that this machine can run."""
    found = [("minidl", "cpu")]
    if mdl.cuda.is_available():
        found.append(("minidl", "cuda"))
    if with_torch:
        try:
            import torch
        except ImportError:
            return found
        found.append(("torch", "cpu"))
        if torch.cuda.is_available():
            found.append(("torch", "cuda"))
    return found


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info():
    info = {"platform": platform.platform(), "processor": _cpu_model(),
            "cpu_count": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
            "minidl": mdl.__version__}
    try:
        import torch
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        info["torch"] = None
    return info


def run(models=MODELS, batch_sizes=(64, 256), rounds=3, block=0.3, backends=None, log=print, profile=False):
    """Benchmark every (model, batch size, backend); return the results as a JSON-ready dict. `profile`:
    also profile each minidl run for about `block` x 3 seconds: its shares per op (minidl.step_profile)."""
    backends = backends or available_backends()
    devices = sorted({device for _, device in backends})
    results = {"machine": machine_info(), "settings": {"models": list(models), "batch_sizes": list(batch_sizes),
                                                       "rounds": rounds, "block_seconds": block,
                                                       "lr": LR, "momentum": MOMENTUM, "dtype": "float32"},
               "gemm_flops": {}, "runs": []}
    for device in devices:
        if device == "cpu":
            rate = gemm_rate(np, min_time=block)
        else:
            backend = mdl.get_backend(device)
            rate = gemm_rate(backend.xp, n=4096, min_time=block, sync=backend.synchronize)
        results["gemm_flops"][device] = rate
        log(f"float32 matrix product on {device}: {rate / 1e9:.1f} GFLOP/s")
    for model in models:
        for batch in ((GPT["batch"],) if model == "gpt" else batch_sizes):
            runners = {}
            for framework, device in backends:
                if framework == "minidl":
                    runner = MinidlRunner(model, batch, device)
                else:
                    like = runners.get(("minidl", "cpu")) or MinidlRunner(model, batch, "cpu")
                    runner = TorchRunner(model, batch, like.net, device)
                runners[(framework, device)] = runner
            times = alternate({key: r.step for key, r in runners.items()}, rounds, block,
                              sync={key: r.sync for key, r in runners.items()})
            for (framework, device), runner in runners.items():
                step = statistics.median(times[(framework, device)])
                phases = time_phases(runner, block)
                split = split_of_step(step, phases)
                flops = matmul_flops(model, batch)
                entry = {"model": model, "batch": batch, "framework": framework, "device": device,
                         "ms_per_step": step * 1e3, "ms_per_step_rounds": [t * 1e3 for t in times[(framework, device)]],
                         "samples_per_s": batch / step,
                         "split_ms": dict(zip(("forward", "backward", "update"), (s * 1e3 for s in split))),
                         "phases_measured_ms": dict(zip(("forward", "backward", "update"), (s * 1e3 for s in phases))),
                         "round_spread": round_spread(times[(framework, device)]),
                         "matmul_gflop_per_step": flops / 1e9,
                         "fraction_of_gemm_rate": flops / step / results["gemm_flops"][device]}
                torch_key = ("torch", device)
                if framework == "minidl" and torch_key in times:
                    ratios = [a / b for a, b in zip(times[(framework, device)], times[torch_key])]
                    entry["ratio_to_torch"] = statistics.median(ratios)
                    entry["ratio_to_torch_rounds"] = ratios
                    ratio_spread = round_spread(ratios)
                    if ratio_spread is not None:
                        entry["round_spread"] = max(entry["round_spread"], ratio_spread)
                entry["unstable"] = entry["round_spread"] is not None and entry["round_spread"] > UNSTABLE_SPREAD
                results["runs"].append(entry)
                log(_format_line(entry))
                if profile and framework == "minidl":
                    rows, per_step = profile_shares(runner, max(3, min(200, round(3 * block / step))))
                    entry["profile"] = {"ms_per_step_profiled": per_step * 1e3,
                                        "ops": [{"op": label, "ms": seconds * 1e3, "share": share}
                                                for label, seconds, share in rows]}
                    log(format_shares(rows, per_step, f"where minidl's {model} step goes ({device}, batch {batch})",
                                      most=12))
    return results


def _format_line(e):
    ratio = f"  {e['ratio_to_torch']:.2f}x torch" if "ratio_to_torch" in e else ""
    s = e["split_ms"]
    return (f"{e['model']:>5} batch {e['batch']:>4}  {e['framework']:>6} {e['device']:<4} {e['ms_per_step']:8.3f} ms/step"
            f"  {e['samples_per_s']:9.0f} samples/s  fwd/bwd/upd {s['forward']:.3f}/{s['backward']:.3f}/"
            f"{s['update']:.3f} ms  {100 * e['fraction_of_gemm_rate']:5.1f}% of GEMM rate{ratio}{_stability(e)}")


def _stability(e):
    """A warning after an unstable figure: the rounds' range, and what to do."""
    if not e.get("unstable"):
        return ""
    rounds = e["ms_per_step_rounds"]
    return (f"  UNSTABLE: rounds {min(rounds):.3f}-{max(rounds):.3f} ms (spread {100 * e['round_spread']:.0f}% > "
            f"{100 * UNSTABLE_SPREAD:.0f}%); rerun on a quiet machine or with more --rounds / a longer --block")


def markdown_table(results):
    lines = ["| model | batch | backend | ms/step | samples/s | forward / backward / update (ms) | "
             "% of GEMM rate | ratio to PyTorch (same device) |",
             "|---|---:|---|---:|---:|---|---:|---:|"]
    for e in results["runs"]:
        s = e["split_ms"]
        ratio = f"{e['ratio_to_torch']:.2f}x" if "ratio_to_torch" in e else ""
        if e.get("unstable"):
            ratio += f" (unstable: rounds spread {100 * e['round_spread']:.0f}%)"
        lines.append(f"| {e['model']} | {e['batch']} | {e['framework']} {e['device']} | {e['ms_per_step']:.3f} | "
                     f"{e['samples_per_s']:.0f} | {s['forward']:.3f} / {s['backward']:.3f} / {s['update']:.3f} | "
                     f"{100 * e['fraction_of_gemm_rate']:.1f} | {ratio} |")
    rates = ", ".join(f"{device}: {rate / 1e9:.1f} GFLOP/s" for device, rate in results["gemm_flops"].items())
    m = results["machine"]
    header = (f"Training step (forward, cross-entropy, backward, SGD momentum), float32, median of "
              f"{results['settings']['rounds']} alternating blocks of >= {results['settings']['block_seconds']} s.\n"
              f"Measured float32 matrix-product rate: {rates}. Machine: {m['processor']}, {m['cpu_count']} cores, "
              f"NumPy {m['numpy']}, PyTorch {m.get('torch')}.\n")
    profiles = []
    for e in results["runs"]:
        if "profile" in e:
            p = e["profile"]
            profiles += [f"\nWhere minidl's {e['model']} step goes ({e['device']}, batch {e['batch']}; "
                         f"{p['ms_per_step_profiled']:.3f} ms per step under cProfile, which overstates the "
                         f"engine's share):\n", "| op | ms per step | share |", "|---|---:|---:|"]
            profiles += [f"| {row['op']} | {row['ms']:.3f} | {100 * row['share']:.1f}% |" for row in p["ops"]]
    return header + "\n" + "\n".join(lines + profiles) + "\n"


def plot_throughput(results, path):
    """Samples per second against batch size, one panel per model, saved to `path` (PNG).

    Drawn on a bare matplotlib Figure (no pyplot): the caller's matplotlib backend, e.g. a notebook's
    inline one, is left as it was."""
    from matplotlib.figure import Figure

    models = results["settings"]["models"]
    fig = Figure(figsize=(5.5 * len(models), 4))
    axes = fig.subplots(1, len(models), squeeze=False)
    for ax, model in zip(axes[0], models):
        series = {}
        for e in results["runs"]:
            if e["model"] == model:
                series.setdefault(f"{e['framework']} {e['device']}", []).append((e["batch"], e["samples_per_s"]))
        for name, points in series.items():
            points.sort()
            ax.plot([b for b, _ in points], [s for _, s in points], marker="o", label=name)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("batch size")
        ax.set_ylabel("training samples / s")
        ax.set_title(f"{model}: throughput")
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def write_outputs(results, out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "results.md").write_text(markdown_table(results))
    plot_throughput(results, out / "throughput.png")
    return out


def parse_args(argv):

    p = Parser(prog="minidl bench", description=__doc__.split("\n")[0],
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", choices=MODELS + ("gpt",), default=list(MODELS),
                   help="mlp, lenet (the default set) and gpt (12 x 64 tokens, nanoGPT's CPU recipe)")
    p.add_argument("--batch-sizes", nargs="+", type=positive_int, default=None, help="default: 64 128 256 512")
    p.add_argument("--rounds", type=positive_int, default=None, help="alternating blocks per backend (default 3)")
    p.add_argument("--block", type=float_in(0, None, low_open=True), default=None,
                   help="seconds per timed block (default 0.3)")
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    p.add_argument("--out", type=output_folder, default="bench-results",
                   help="folder for results.json, results.md, throughput.png")
    p.add_argument("--quick", action="store_true", help="smoke run: small batches, short blocks, one round")
    p.add_argument("--profile", action="store_true",
                   help="also print (and save) where each minidl step's time goes: cProfile shares per op")
    return p.parse_args(argv)


def main(argv=None):
    """Entry point of `minidl bench`; returns 0 on success."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    mdl.get_backend("cpu").tuning.enable()  # a command may tune the process: keep freed memory, threads (CpuTuning)
    if args.quick:
        batch_sizes, rounds, block = args.batch_sizes or [8, 16], args.rounds or 1, args.block or 0.01
    else:
        batch_sizes, rounds, block = args.batch_sizes or [64, 128, 256, 512], args.rounds or 3, args.block or 0.3
    results = run(args.models, batch_sizes, rounds, block, available_backends(not args.no_torch),
                  profile=args.profile)
    out = write_outputs(results, args.out)
    unstable = [e for e in results["runs"] if e["unstable"]]
    if unstable:
        print(f"warning: {len(unstable)} of {len(results['runs'])} figures are unstable (their rounds spread more than "
              f"{100 * UNSTABLE_SPREAD:.0f}%: see UNSTABLE above); do not read their ratios as a speed difference")
    elif rounds < 2:
        print("note: one round per figure, so their stability was not measured (use --rounds 3 or more)")
    print(f"wrote {out / 'results.json'}, {out / 'results.md'}, {out / 'throughput.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
