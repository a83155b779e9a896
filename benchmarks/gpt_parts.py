"""The GPT training step's largest parts, each alone, in minidl/NumPy and in PyTorch (same shapes, float32):

    python benchmarks/gpt_parts.py            # 2 threads, medians of 7 repeats

The shapes are those of `minidl bench --models gpt --batch-sizes 12` (nanoGPT's CPU recipe: 12 x 64 tokens,
4 layers, 4 heads, 128 wide, 65 characters):
    Linear products   x @ Wᵀ, dL/dy @ W, dL/dyᵀ @ x of c_attn (3C, C), attn c_proj (C, C), c_fc (4C, C),
                      mlp c_proj (C, 4C) in each layer and lm_head (V, C), with minidl's weight orders;
    attention         the six batched (T x d)-sized products of a causal attention's forward and backward;
    GELU              exact GELU forward and backward on the four (B·T, 4C) activations (minidl's fast path).
Their sum, set against PyTorch's whole step, shows how much of a step no engine code can remove.
"""

import argparse
import statistics
import timeit

from script_setup import use_threads  # benchmarks/script_setup.py, beside this script

ARGS = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ARGS.add_argument("--threads", type=int, default=2)
ARGS.add_argument("--repeats", type=int, default=7)
ARGS = ARGS.parse_args()
use_threads(ARGS.threads)  # before NumPy loads (script_setup.py)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import minidl as mdl  # noqa: E402
from minidl.nn import functional as F  # noqa: E402

torch.set_num_threads(ARGS.threads)
mdl.get_backend("cpu").tuning.enable()
ROWS, C, HEADS, T, V, LAYERS = 12 * 64, 128, 4, 64, 65, 4


def seconds(fn, number=100):
    """Median over --repeats of the mean time of `number` calls."""
    fn()
    return statistics.median(t / number for t in timeit.repeat(fn, number=number, repeat=ARGS.repeats))


def linear_products(rng):
    """(NumPy, PyTorch) seconds of every Linear's three products in one step."""
    layers = [((3 * C, C), LAYERS), ((C, C), LAYERS), ((4 * C, C), LAYERS), ((C, 4 * C), LAYERS), ((V, C), 1)]
    mine = theirs = 0.0
    backend = mdl.get_backend("cpu")
    for (out, fan_in), count in layers:
        x = rng.standard_normal((ROWS, fan_in), dtype=np.float32)
        gy = rng.standard_normal((ROWS, out), dtype=np.float32)
        order = backend.linear_weight_order(out, fan_in)
        w = np.asarray(rng.standard_normal((out, fan_in), dtype=np.float32), order=order)
        mine += count * (seconds(lambda: x @ w.T) + seconds(lambda: gy @ w)
                         + seconds(lambda: np.matmul(gy.T, x, out=np.empty_like(w))))
        tx, tw, tgy = torch.from_numpy(x), torch.from_numpy(np.ascontiguousarray(w)), torch.from_numpy(gy)
        theirs += count * (seconds(lambda: tx @ tw.T) + seconds(lambda: tgy @ tw) + seconds(lambda: tgy.T @ tx))
    return mine, theirs


def attention_products(rng):
    """(NumPy, PyTorch) seconds of the six batched products of attention, forward and backward, all layers."""
    d = C // HEADS
    q, k, v, gy = (rng.standard_normal((12, HEADS, T, d), dtype=np.float32) for _ in range(4))
    p = rng.standard_normal((12, HEADS, T, T), dtype=np.float32)

    def six(q, k, v, gy, p, t):
        return (seconds(lambda: k @ t(q)) + seconds(lambda: t(p) @ v) + seconds(lambda: v @ t(gy))
                + seconds(lambda: t(p) @ k) + seconds(lambda: p @ q) + seconds(lambda: p @ gy))

    mine = six(q, k, v, gy, p, lambda a: np.swapaxes(a, -1, -2))
    theirs = six(*map(torch.from_numpy, (q, k, v, gy, p)), lambda a: a.transpose(-1, -2))
    return LAYERS * mine, LAYERS * theirs


def gelu(rng):
    """(minidl, PyTorch) seconds of exact GELU forward and backward on every layer's activation."""
    x = rng.standard_normal((ROWS, 4 * C), dtype=np.float32)
    g = np.ones_like(x)
    xm, gm = mdl.tensor(x, requires_grad=True), mdl.tensor(g)
    xt, gt = torch.tensor(x, requires_grad=True), torch.from_numpy(g)

    def minidl_gelu():
        xm.grad = None  # a step's GELU hands its gradient on; nothing accumulates into a leaf
        F.gelu(xm).backward(gm)

    def torch_gelu():
        xt.grad = None
        torch.nn.functional.gelu(xt).backward(gt)

    mine, theirs = seconds(minidl_gelu, 50), seconds(torch_gelu, 50)
    return LAYERS * mine, LAYERS * theirs


def main():
    rng = np.random.default_rng(0)
    total_mine = total_theirs = 0.0
    for name, part in (("Linear products", linear_products), ("attention products", attention_products),
                       ("exact GELU", gelu)):
        mine, theirs = part(rng)
        total_mine, total_theirs = total_mine + mine, total_theirs + theirs
        print(f"{name:20s} minidl/NumPy {mine * 1e3:6.2f} ms   PyTorch {theirs * 1e3:6.2f} ms   per step")
    print(f"{'together':20s} minidl/NumPy {total_mine * 1e3:6.2f} ms   PyTorch {total_theirs * 1e3:6.2f} ms")


if __name__ == "__main__":
    main()
