"""The single source of the tutorial notebooks: `python docs/tutorials/make_notebooks.py` writes the five
.ipynb files beside it (no outputs; run them in Jupyter, or `python -m pytest tests/test_tutorials.py`).

Edit the cells here, not in the .ipynb files: tests/test_tutorials.py checks that the notebooks are what this
script writes. Each notebook is a list of cells: `md(...)` for text, `code(...)` for code a student runs.
Every notebook's first code cell reads MINIDL_TUTORIAL_QUICK: "1" (what the test suite sets) shrinks data and
epochs so that the whole notebook runs in seconds.
"""

import sys
import textwrap
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent


def md(text):
    return nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip("\n"))


def code(text):
    return nbformat.v4.new_code_cell(textwrap.dedent(text).strip("\n"))


QUICK_CELL = '''
import os
QUICK = os.environ.get("MINIDL_TUTORIAL_QUICK") == "1"   # the test suite's small-size mode
'''


# ---------------------------------------------------------------------------------------------------------------
# 01: backprop by hand
# ---------------------------------------------------------------------------------------------------------------
BACKPROP_BY_HAND = [
    md(r"""
    # 1. Backprop by hand, next to minidl

    We take a two-layer network, write its forward pass in NumPy, derive every gradient with the chain
    rule, one line per step, and compare each number with the gradients minidl's `backward()` computes.
    Nothing is hidden: if the two disagree anywhere, the comparison cell raises an error.

    The network, for a batch of $N$ inputs $x \in \mathbb{R}^{N \times D}$ with class labels $y_n$:

    $$
    \begin{aligned}
    h &= x W_1^\top + b_1 && (N, H) \quad\text{(PyTorch's layout: } W_1 \text{ is } (H, D)\text{)}\\
    a &= \max(h, 0) && (N, H)\\
    z &= a W_2^\top + b_2 && (N, C) \quad\text{the logits}\\
    p &= \operatorname{softmax}(z), \quad p_{nc} = e^{z_{nc}} / \textstyle\sum_k e^{z_{nk}} && (N, C)\\
    L &= -\tfrac{1}{N} \textstyle\sum_n \log p_{n, y_n} && \text{a number: the mean cross-entropy}
    \end{aligned}
    $$
    """),
    code(QUICK_CELL + '''
import numpy as np
import minidl as mdl
import minidl.nn as nn
import minidl.nn.functional as F

np.set_printoptions(precision=5, suppress=True)
mdl.manual_seed(0)                        # the same initial weights on every run
rng = np.random.default_rng(0)
N, D, H, C = 6, 4, 5, 3                   # batch, inputs, hidden units, classes: small enough to print
x = rng.standard_normal((N, D))           # float64: the comparison is exact up to rounding
y = rng.integers(0, C, N)
print("x", x.shape, x.dtype, "  y", y)
'''),
    md(r"""
    ## The same network in minidl

    `nn.Linear(D, H)` holds `weight` $(H, D)$ and `bias` $(H,)$, as PyTorch's does. We work in float64
    (`model.astype(mdl.float64)`), so both computations agree to about $10^{-16}$ relative error.
    """),
    code('''
model = nn.Sequential(nn.Linear(D, H), nn.ReLU(), nn.Linear(H, C)).astype(mdl.float64)
W1, b1 = model[0].weight.numpy(), model[0].bias.numpy()   # host copies of the parameters, as NumPy arrays
W2, b2 = model[2].weight.numpy(), model[2].bias.numpy()
print("W1", W1.shape, " b1", b1.shape, " W2", W2.shape, " b2", b2.shape)
'''),
    md(r"""
    ## Forward, in NumPy

    The softmax subtracts each row's maximum first: $\operatorname{softmax}(z) = \operatorname{softmax}(z - \max z)$,
    and $e^{z - \max z} \le 1$ never overflows.
    """),
    code('''
h = x @ W1.T + b1                                   # (N, H)
a = np.maximum(h, 0)                                # (N, H)
z = a @ W2.T + b2                                   # (N, C)
e = np.exp(z - z.max(axis=1, keepdims=True))
p = e / e.sum(axis=1, keepdims=True)                # (N, C), rows sum to 1
L = -np.log(p[np.arange(N), y]).mean()
print("loss by hand:", L)
'''),
    md(r"""
    ## Backward, one chain-rule step per line

    Start from $\partial L / \partial L = 1$ and walk the forward pass backwards. Each step multiplies the
    gradient that arrives by the local derivative of one operation.

    1. Softmax and cross-entropy together: $\dfrac{\partial L}{\partial z_{nc}} = \dfrac{1}{N}\,(p_{nc} - [c = y_n])$.
    2. $z = a W_2^\top + b_2$: $\dfrac{\partial L}{\partial W_2} = \left(\dfrac{\partial L}{\partial z}\right)^{\!\top} a$,
       $\dfrac{\partial L}{\partial b_2} = \sum_n \dfrac{\partial L}{\partial z_n}$,
       $\dfrac{\partial L}{\partial a} = \dfrac{\partial L}{\partial z}\, W_2$.
    3. $a = \max(h, 0)$: $\dfrac{\partial L}{\partial h} = \dfrac{\partial L}{\partial a} \odot [h > 0]$ (the gradient
       passes where the unit was active, and stops where it was not).
    4. $h = x W_1^\top + b_1$: $\dfrac{\partial L}{\partial W_1} = \left(\dfrac{\partial L}{\partial h}\right)^{\!\top} x$,
       $\dfrac{\partial L}{\partial b_1} = \sum_n \dfrac{\partial L}{\partial h_n}$,
       $\dfrac{\partial L}{\partial x} = \dfrac{\partial L}{\partial h}\, W_1$.

    A gradient always has the shape of the thing it is the gradient of: that is a quick check of every line.
    """),
    code('''
one_hot = np.eye(C)[y]                               # (N, C): 1 at the true class
dz = (p - one_hot) / N                               # step 1            (N, C)
dW2 = dz.T @ a                                       # step 2            (C, H), as W2
db2 = dz.sum(axis=0)                                 #                   (C,)
da = dz @ W2                                         #                   (N, H)
dh = da * (h > 0)                                    # step 3            (N, H)
dW1 = dh.T @ x                                       # step 4            (H, D), as W1
db1 = dh.sum(axis=0)                                 #                   (H,)
dx = dh @ W1                                         #                   (N, D), as x
by_hand = {"0.weight": dW1, "0.bias": db1, "2.weight": dW2, "2.bias": db2, "x": dx}
for name, g in by_hand.items():
    print(f"dL/d{name:<9} {str(g.shape):>7}")
'''),
    md(r"""
    ## The same gradients from minidl

    minidl records the graph during the forward pass; `loss.backward()` runs the same four steps (each
    operation's `backward` is its local derivative times the gradient arriving). We ask for $\partial L/\partial x$
    too by making `x` a tensor that requires a gradient.
    """),
    code('''
xt = mdl.tensor(x, requires_grad=True)              # float64 (NumPy arrays keep their dtype)
loss = F.cross_entropy(model(xt), mdl.tensor(y))
loss.backward()
print("loss by minidl:", loss.item(), "  by hand:", L)
from_minidl = {name: p.grad.numpy() for name, p in model.named_parameters()}
from_minidl["x"] = xt.grad.numpy()
'''),
    md(r"""
    ## Number for number

    Side by side for $\partial L / \partial W_2$ (every entry), then the largest absolute difference over
    every gradient. In float64 it is rounding error, around $10^{-17}$.
    """),
    code('''
print(f"{'entry':>8} {'by hand':>12} {'minidl':>12} {'difference':>11}")
for (i, j), value in np.ndenumerate(dW2):
    print(f"{str((i, j)):>8} {value:12.8f} {from_minidl['2.weight'][i, j]:12.8f} "
          f"{value - from_minidl['2.weight'][i, j]:11.1e}")
'''),
    code('''
worst = 0.0
for name in by_hand:
    difference = np.abs(by_hand[name] - from_minidl[name]).max()
    worst = max(worst, difference)
    print(f"dL/d{name:<9} max |by hand - minidl| = {difference:.1e}")
print(f"max abs difference: {worst:.3e}")
assert worst < 1e-12, "the hand-written gradients and minidl's disagree"
'''),
    md(r"""
    ## A third opinion: finite differences

    Both computations above use the chain rule. Finite differences do not: nudge one weight by $\pm\varepsilon$
    and watch the loss,
    $\dfrac{\partial L}{\partial w} \approx \dfrac{L(w + \varepsilon) - L(w - \varepsilon)}{2\varepsilon}$,
    with an error of order $\varepsilon^2$. (`mdl.gradcheck` does this for every entry: tutorial 2.)
    """),
    code('''
def loss_with(W1_changed):
    a = np.maximum(x @ W1_changed.T + b1, 0)
    z = a @ W2.T + b2
    z = z - z.max(axis=1, keepdims=True)
    return -(z[np.arange(N), y] - np.log(np.exp(z).sum(axis=1))).mean()

eps, (i, j) = 1e-6, (1, 2)
plus, minus = W1.copy(), W1.copy()
plus[i, j] += eps
minus[i, j] -= eps
numeric = (loss_with(plus) - loss_with(minus)) / (2 * eps)
print(f"dL/dW1[{i},{j}]  finite differences {numeric:.8f}   by hand {dW1[i, j]:.8f}   minidl "
      f"{from_minidl['0.weight'][i, j]:.8f}")
'''),
    md(r"""
    ## What minidl's backward did, node by node

    `minidl.viz.trace` runs the backward pass and prints each graph node in the order it ran, with the local
    derivative from that operation's docstring and the norms of the gradients in and out. Compare the rows
    with steps 1 to 4 above.
    """),
    code('''
from minidl.viz import trace

loss = F.cross_entropy(model(mdl.tensor(x)), mdl.tensor(y))
records = trace(loss, model=model)
'''),
    md(r"""
    **Try it.** Replace `nn.ReLU()` with `nn.Tanh()` in the model, `np.maximum(h, 0)` with `np.tanh(h)` in the
    NumPy forward, and step 3 with $\partial L/\partial h = \partial L/\partial a \odot (1 - a^2)$: the
    comparison should still print differences near $10^{-17}$. Then make a mistake on purpose (forget the $1/N$ in step 1) and watch it grow.
    """),
]


# ---------------------------------------------------------------------------------------------------------------
# 02: write your own op
# ---------------------------------------------------------------------------------------------------------------
YOUR_OWN_OP = [
    md(r"""
    # 2. Write your own op, and test it three ways

    Every operation in minidl is a `Function`: a `forward` on raw arrays and a `backward` that applies the
    chain rule, side by side in one small class. We write one that minidl does not have, **softplus**,

    $$y = \log(1 + e^{x}), \qquad \frac{dy}{dx} = \frac{e^{x}}{1 + e^{x}} = \sigma(x),$$

    so $\partial L/\partial x = \partial L/\partial y \cdot \sigma(x)$ (element by element). Then we check it:
    against finite differences (`mdl.gradcheck`), after breaking it on purpose (to read a failure), and over
    many random inputs with the hypothesis strategies of `minidl.testing`.
    """),
    code(QUICK_CELL + '''
import numpy as np
import minidl as mdl

mdl.manual_seed(0)
EXAMPLES = 15 if QUICK else 100          # random inputs per hypothesis test
'''),
    md(r"""
    ## The op

    The rules of a `Function`:

    * `forward(self, x)` gets backend arrays (NumPy on the CPU, CuPy on a GPU: write `self.xp`, never `np`,
      and the op runs on both), returns the output array, and keeps in `self.saved` what `backward` needs.
    * `backward(self, gy)` gets $\partial L/\partial y$ (shape of $y$) and returns $\partial L/\partial x$
      (shape of $x$): one gradient per input, a tuple when there are several.
    * The docstring's first line is the formula line `y = …;   dL/dx = …`: `minidl.viz.trace` prints it.

    Written as $\log(1 + e^{x})$, softplus overflows for $x \gtrsim 710$ in float64 ($e^{x} = \infty$). The
    identity $\log(1 + e^{x}) = \max(x, 0) + \log(1 + e^{-|x|})$ never exponentiates a positive number, and
    $\sigma(x)$ has the same trick: $e^{-|x|} \le 1$.
    """),
    code('''
class Softplus(mdl.Function):
    """y = log(1 + exp(x));   dL/dx = dL/dy * sigmoid(x).   Saves x."""

    def forward(self, x):
        xp = self.xp
        self.saved = (x,)
        return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))   # no overflow for large |x|

    def backward(self, gy):
        (x,) = self.saved
        xp = self.xp
        e = xp.exp(-xp.abs(x))                                   # in (0, 1]
        sigmoid = xp.where(x >= 0, 1 / (1 + e), e / (1 + e))
        return gy * sigmoid


def softplus(x):
    """softplus of a Tensor: one graph node."""
    return Softplus()(x)


x = mdl.tensor([-800.0, -2.0, 0.0, 2.0, 800.0], dtype=mdl.float64, requires_grad=True)
y = softplus(x)
y.sum().backward()
print("y     ", y.numpy())
print("dy/dx ", x.grad.numpy())
print("NumPy's log(1 + e^x) through logaddexp:", np.logaddexp(0, x.numpy()))
'''),
    md(r"""
    ## Check 1: `mdl.gradcheck` against finite differences

    `mdl.gradcheck(fn, inputs)` computes `fn(*inputs)`, runs `backward()`, and compares every partial
    derivative with the central difference $\bigl(f(x + \varepsilon e_i) - f(x - \varepsilon e_i)\bigr) / 2\varepsilon$
    in float64 (error $O(\varepsilon^2)$, $\varepsilon = 10^{-6}$). It returns `True`, or raises
    `mdl.GradcheckError` saying which entry disagrees. It works on float64 copies of the inputs: in float32
    the rounding error of $f(x \pm \varepsilon)$ would swamp the difference.
    """),
    code('''
x = mdl.tensor(3 * np.random.default_rng(1).standard_normal((3, 4)), requires_grad=True)   # float64
print("gradcheck:", mdl.gradcheck(softplus, (x,)))
'''),
    md(r"""
    ## Break it on purpose, and read the message

    A typical slip: the derivative of softplus is $\sigma(x)$, but we write $\sigma(-x)$ (a sign error in
    the `where`). Forward is still right, so training would run and silently learn badly. The gradient check
    catches it. Read the message: it names **which input** (0: the first argument of `fn`), **which
    element**, and the **analytic** value (from our `backward`) against the **numeric** one (finite
    differences). Check it by hand: at that element the numeric value is $\sigma(x)$, the analytic one
    $\sigma(-x) = 1 - \sigma(x)$.
    """),
    code('''
class BrokenSoftplus(Softplus):
    """y = log(1 + exp(x));   dL/dx = dL/dy * sigmoid(-x) (WRONG on purpose: the sign)."""

    def backward(self, gy):
        (x,) = self.saved
        return gy / (1 + self.xp.exp(x))                          # sigmoid(-x): a sign slip


def broken_softplus(x):
    return BrokenSoftplus()(x)


try:
    mdl.gradcheck(broken_softplus, (x,))
    print("no error?!")
except mdl.GradcheckError as err:
    print("GradcheckError:", err)

sigma = 1 / (1 + np.exp(-x.numpy()))
print("\\nfor comparison, at every element: sigmoid(x) (right)\\n", sigma, "\\nand sigmoid(-x) (what we wrote)\\n", 1 - sigma)
'''),
    md(r"""
    A gradient of the wrong **shape** is caught even without a gradient check: the backward engine checks
    every gradient a node returns (count, shape, dtype, device) and names the op. Here `backward` forgets
    that the gradient is elementwise and sums it:
    """),
    code('''
class SummingSoftplus(Softplus):
    """y = log(1 + exp(x));   dL/dx = sum of dL/dy * sigmoid(x) (WRONG on purpose: the shape)."""

    def backward(self, gy):
        return super().backward(gy).sum()


try:
    SummingSoftplus()(x).sum().backward()
except mdl.MinidlError as err:
    print(type(err).__name__ + ":", err)
'''),
    md(r"""
    ## Check 2: many random inputs with hypothesis

    One gradient check looks at one input. [Hypothesis](https://hypothesis.readthedocs.io) draws many:
    `minidl.testing.tensors(shape=..., min_value=..., max_value=...)` is a strategy for float64 tensors that
    require grad, `shapes(...)` one for shapes. A test decorated with `@given(...)` runs once per drawn
    example. Here, two properties: the gradient passes `gradcheck`, and the forward agrees with NumPy's
    `logaddexp(0, x)` (an independent formula) even for large $|x|$.

    (In a test file these are ordinary pytest tests; here we call them directly.)
    """),
    code('''
import tempfile

# Hypothesis keeps a cache in ./.hypothesis; send it to a temporary folder instead (before its first test)
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", tempfile.mkdtemp(prefix="minidl-tutorial-"))
from hypothesis import given, settings
from minidl.testing import shapes, tensors

# EXAMPLES inputs per test, the same ones on every run, no time limit, no database of failing examples
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None)


@SETTINGS
@given(tensors(shape=shapes(min_dims=0, max_dims=3, max_side=4), min_value=-30, max_value=30))
def test_softplus_gradient(x):
    assert mdl.gradcheck(softplus, (x,))


@SETTINGS
@given(tensors(shape=shapes(max_dims=2), min_value=-1000, max_value=1000, requires_grad=False))
def test_softplus_matches_numpy(x):
    np.testing.assert_allclose(softplus(x).numpy(), np.logaddexp(0, x.numpy()), rtol=1e-12, atol=1e-300)


test_softplus_gradient()
test_softplus_matches_numpy()
print(f"both properties held for {EXAMPLES} random inputs each")
'''),
    md(r"""
    The broken op fails the same test, and hypothesis **shrinks** the failing input: it simplifies it
    (fewer dimensions, smaller values) while it still fails, and reports the simplest one it found as the
    "falsifying example". Every input away from 0 fails ($\sigma(x) = \sigma(-x)$ only at $x = 0$), so it ends
    at a very simple one.
    """),
    code('''
@SETTINGS
@given(tensors(shape=shapes(min_dims=0, max_dims=3, max_side=4), min_value=-30, max_value=30))
def test_broken_softplus_gradient(x):
    assert mdl.gradcheck(broken_softplus, (x,))


try:
    test_broken_softplus_gradient()
    print("no failure?!")
except mdl.GradcheckError as err:
    print("hypothesis found a failing input;", type(err).__name__ + ":", err)
    for note in getattr(err, "__notes__", []):   # hypothesis attaches the falsifying example as a note
        print(note)
'''),
    md(r"""
    ## Your op inside a graph

    A `Function` composes with everything else: here softplus is the hidden activation of a small network,
    trained for a few steps. `trace` prints our formula line for the `Softplus` node.
    """),
    code('''
import minidl.nn as nn
import minidl.nn.functional as F
import minidl.optim as optim
from minidl.viz import trace


class SoftplusLayer(nn.Module):
    def forward(self, x):
        return softplus(x)


mdl.manual_seed(0)
rng = np.random.default_rng(0)
X = mdl.tensor(rng.standard_normal((64, 2)).astype(np.float32))
t = mdl.tensor((X.numpy()[:, 0] * X.numpy()[:, 1] > 0).astype(np.int64))   # XOR-like classes
net = nn.Sequential(nn.Linear(2, 16), SoftplusLayer(), nn.Linear(16, 2))
opt = optim.Adam(net.parameters(), lr=0.05)
for step in range(30 if QUICK else 200):
    opt.zero_grad()
    loss = F.cross_entropy(net(X), t)
    loss.backward()
    opt.step()
print(f"loss after training {loss.item():.3f} (chance: {np.log(2):.3f})")
records = trace(F.cross_entropy(net(X), t), model=net)
'''),
    md(r"""
    **Try it.** Write `Swish`, $y = x\,\sigma(x)$ with $\partial L/\partial x = \partial L/\partial y \cdot
    (\sigma(x) + x\,\sigma(x)(1 - \sigma(x)))$, and run the same three checks. For an op with two inputs,
    `backward` returns a tuple of two gradients; if the inputs broadcast, each gradient must be summed back
    to its input's shape (minidl's own ops do this in `minidl/ops/broadcast.py`).
    """),
]


# ---------------------------------------------------------------------------------------------------------------
# 03: the course method
# ---------------------------------------------------------------------------------------------------------------
COURSE_METHOD = [
    md(r"""
    # 3. The course method on real data

    How to get an honest estimate of how well a model will do on data it has never seen, and choose its
    settings without fooling yourself:

    1. **Split** off a test set first, and do not look at it until the very end.
    2. **K-fold cross-validation** on the rest: a mean and a spread instead of one lucky split.
    3. **Search** the hyper-parameters, every candidate scored by K-fold on the same folds.
    4. **Early stopping**: inside every fit, stop when the validation loss stops improving; keep the best weights.
    5. **Refit** the chosen setting on all non-test data, and **test once**.

    The data: scikit-learn's 8×8 handwritten digits (1,797 images, bundled: no download), with a small dense
    network.
    """),
    code(QUICK_CELL + '''
import numpy as np
import matplotlib.pyplot as plt
import minidl as mdl
import minidl.nn as nn
import minidl.optim as optim
from minidl.data import train_val_test_split
from minidl.data.datasets import load_digits
from minidl.train import EarlyStopping, Trainer, cross_validate, grid_search, log_uniform, random_search
from minidl.viz import plot_confusion_matrix, plot_history

SEED = 0
mdl.manual_seed(SEED)
X, y = load_digits()                      # (1797, 1, 8, 8) in [0, 1], labels 0..9
X = X.reshape(len(X), -1)                 # 64 pixels per image for a dense network
if QUICK:                                 # the test suite's small size: 600 images, short runs
    X, y = X[:600], y[:600]
K = 3 if QUICK else 5                     # folds
MAX_EPOCHS = 6 if QUICK else 40           # early stopping usually ends sooner
print(X.shape, y.shape, "classes", np.bincount(y))
'''),
    md(r"""
    ## 1. Split: the test set goes into a drawer

    `train_val_test_split(X, y, val_size, test_size, stratify=True, seed)` follows scikit-learn: fractions of
    the whole, every class in the same proportion in every part. We keep 20 % for the test and do not build a
    validation part here: the K folds will make their own.
    """),
    code('''
X_rest, _, X_test, y_rest, _, y_test = train_val_test_split(X, y, val_size=0.0, test_size=0.2, seed=SEED)
print(f"{len(y_rest)} samples for model selection, {len(y_test)} for the final test (not touched until step 5)")
'''),
    md(r"""
    ## 2. K-fold cross-validation

    Cut the data into $K$ folds; train $K$ models, model $k$ on all folds but $k$, and score it on fold $k$.
    The estimate is the mean of the $K$ scores, and their standard deviation says how much it would move with
    another split:

    $$\bar s = \frac{1}{K}\sum_{k=1}^{K} s_k, \qquad \operatorname{sd} = \sqrt{\frac{1}{K}\sum_k (s_k - \bar s)^2}.$$

    `cross_validate(build, X, y, k, seed, epochs, params=...)` calls `build(**params)` for every fold, which
    returns a fresh `(model, loss_fn, optimizer)` or a `Trainer`. Ours returns a `Trainer` with early
    stopping, so every fold stops on its own validation loss.
    """),
    code('''
def build(lr=1e-3, hidden=64, patience=5):
    """One candidate: 64 -> hidden -> 10 with ReLU, Adam at learning rate `lr`, early stopping."""
    model = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    return Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=lr),
                   metrics=("accuracy",), progress=False,
                   callbacks=[EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)])


BASELINE = {"lr": 1e-2, "hidden": 64}
cv = cross_validate(build, X_rest, y_rest, k=K, seed=SEED, epochs=MAX_EPOCHS, params=BASELINE)
for k, (accuracy, loss) in enumerate(zip(cv.scores["val_accuracy"], cv.scores["val_loss"])):
    print(f"fold {k}: val_loss {loss:.4f}   val_accuracy {accuracy:.4f}   "
          f"({cv.histories[k].epochs} epochs, best {cv.histories[k].best_epoch + 1})")
print(f"mean ± sd: val_accuracy {cv.mean['val_accuracy']:.4f} ± {cv.std['val_accuracy']:.4f}")
'''),
    md(r"""
    Each fold's validation curve: where early stopping found the best epoch (the star) and where it
    stopped ($\text{patience}$ epochs without improvement later).
    """),
    code('''
fig, ax = plt.subplots(figsize=(6, 3.5))
for k, history in enumerate(cv.histories):
    line, = ax.plot(range(1, history.epochs + 1), history["val_loss"], label=f"fold {k}")
    ax.plot(history.best_epoch + 1, history["val_loss"][history.best_epoch], "*", color=line.get_color(), ms=12)
ax.set(xlabel="epoch", ylabel="validation loss", title=f"{K}-fold cross-validation of {BASELINE}")
ax.legend()
plt.show()
'''),
    md(r"""
    ## 3. Search: every candidate on the same folds

    `grid_search(build, param_grid, X, y, k, scoring="val_loss")` cross-validates every combination of the
    grid on the same $K$ folds (so the candidates differ only in their settings), ranks them by the mean
    validation loss, and refits the best on all of `X, y` (`search.best_model`, `search.best_trainer`).
    Without validation data left, that refit trains for the mean number of epochs the best candidate's folds
    needed to reach their best epoch, when they stopped early (else for `epochs`): `search.refit_epochs`.
    """),
    code('''
grid = {"lr": [1e-3, 1e-2], "hidden": [32]} if QUICK else {"lr": [1e-3, 1e-2, 1e-1], "hidden": [32, 128]}
search = grid_search(build, grid, X_rest, y_rest, k=K, scoring="val_loss", seed=SEED, epochs=MAX_EPOCHS)
print(f"{'lr':>7} {'hidden':>6}  {'val_loss mean ± sd':>20}  {'val_accuracy':>12}  rank")
for row in search.results:
    print(f"{row['lr']:7.0e} {row['hidden']:6d}  {row['mean_val_loss']:10.4f} ± {row['std_val_loss']:.4f}  "
          f"{row['mean_val_accuracy']:12.4f}  {row['rank_val_loss']:4d}")
print("best:", search.best_params, f"(mean val_loss {search.best_score:.4f}); refit for",
      search.refit_epochs, "epochs on all", len(y_rest), "samples")
'''),
    code('''
fig, ax = plt.subplots(figsize=(6, 3.5))
for hidden in sorted({row["hidden"] for row in search.results}):
    rows = [row for row in search.results if row["hidden"] == hidden]
    ax.errorbar([row["lr"] for row in rows], [row["mean_val_loss"] for row in rows],
                yerr=[row["std_val_loss"] for row in rows], marker="o", capsize=4, label=f"{hidden} hidden units")
ax.set(xscale="log", xlabel="learning rate", ylabel=f"validation loss (mean ± sd over {K} folds)",
       title="grid search")
ax.legend()
plt.show()
'''),
    md(r"""
    A grid spends most of its budget on values of the unimportant settings. `random_search` draws
    `n_iter` candidates instead; for a learning rate draw from a log-uniform distribution
    (`log_uniform(1e-4, 1e-1)`: each decade equally often). Its results read the same way.
    """),
    code('''
sampled = random_search(build, {"lr": log_uniform(1e-4, 1e-1), "hidden": [32, 64, 128]}, X_rest, y_rest,
                       n_iter=2 if QUICK else 6, k=K, seed=SEED, epochs=MAX_EPOCHS, refit=False)
for row in sorted(sampled.results, key=lambda row: row["rank_val_loss"]):
    print(f"lr {row['lr']:.2e}  hidden {row['hidden']:4d}   val_loss {row['mean_val_loss']:.4f} ± "
          f"{row['std_val_loss']:.4f}   rank {row['rank_val_loss']}")
'''),
    md(r"""
    ## 4. Early stopping, seen on one split

    Inside every fold above, `EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)`
    watched the validation loss: training stops after `patience` epochs without improvement, and the weights
    of the best epoch are put back. Here is one such run of the chosen setting, on one train/validation split
    of the non-test data, with its curves: the training loss keeps falling, the validation loss flattens out
    and then wanders or rises (the network starts to learn the training set by heart), and the best epoch
    is marked.
    """),
    code('''
X_train, X_val, _, y_train, y_val, _ = train_val_test_split(X_rest, y_rest, val_size=0.25, test_size=0.0, seed=SEED)
mdl.manual_seed(SEED)
trainer = build(**search.best_params)
history = trainer.fit((X_train, y_train), val=(X_val, y_val), epochs=MAX_EPOCHS, seed=SEED)
print(f"ran {history.epochs} epochs, best epoch {history.best_epoch + 1}:",
      f"val_loss {history['val_loss'][history.best_epoch]:.4f}, "
      f"val_accuracy {history['val_accuracy'][history.best_epoch]:.4f}")
print("why it stopped:", history.stop_reason)
fig = plot_history(history)
plt.show()
'''),
    md(r"""
    ## 5. Test once

    The model refitted on all non-test data with the chosen setting meets the test set, once. This number is
    the estimate to report; the cross-validation mean above was used for choosing, so it is optimistic. If we
    now went back and changed something because of the test score, the test set would become a validation set
    and we would need a new one.
    """),
    code('''
test = search.best_trainer.evaluate((X_test, y_test))
print(f"test loss {test['loss']:.4f}   test accuracy {test['accuracy']:.4f}   ({len(y_test)} images)")
print(f"cross-validation estimate of the chosen setting: val_accuracy "
      f"{search.cv_results[search.best_index].mean['val_accuracy']:.4f}")
predicted = search.best_trainer.predict(X_test).argmax(axis=1)
fig = plot_confusion_matrix(y_test, predicted, class_names=[str(d) for d in range(10)])
plt.show()
'''),
    md(r"""
    **Try it.** Add `"patience": [2, 10]` to the grid; search over the weight decay of `optim.AdamW`; or
    replace the digits with `load_breast_cancer()` (standardise the 30 features with the mean and standard
    deviation of the training part only, and use 2 output units).
    """),
]


# ---------------------------------------------------------------------------------------------------------------
# 04: inside a CNN
# ---------------------------------------------------------------------------------------------------------------
INSIDE_A_CNN = [
    md(r"""
    # 4. Seeing inside a CNN

    A network that trains badly rarely says why. This notebook looks inside a small convolutional network
    while it trains on the 8×8 digits: its **kernels** (what the first layer looks for), the **histograms of
    activations and gradients** per layer (are signals and gradients alive, and of a sane size?), **dead
    ReLUs** (units that output 0 for every input, so they get no gradient and never recover), and the
    **autograd graph** itself.

    The network, with shapes for a batch of $N$ images:
    `(N, 1, 8, 8)` → conv 3×3, 8 channels, padding 1 → ReLU → max-pool 2 → `(N, 8, 4, 4)` → conv 3×3,
    16 channels → ReLU → max-pool 2 → `(N, 16, 2, 2)` → flatten `(N, 64)` → linear → `(N, 10)`.
    A convolution computes, for output channel $o$ at position $(i, j)$,
    $y_{o,i,j} = b_o + \sum_{c}\sum_{u,v} W_{o,c,u,v}\, x_{c,\,i+u,\,j+v}$: the kernel $W_{o,c}$ is a small
    template slid over the image.
    """),
    code(QUICK_CELL + '''
import tempfile
from pathlib import Path

import numpy as np
import matplotlib.pyplot as plt
import minidl as mdl
import minidl.nn as nn
import minidl.optim as optim
from minidl.data import train_val_test_split
from minidl.data.datasets import load_digits
from minidl.train import Trainer
from minidl.viz import (Monitor, draw_graph, plot_activation_histograms, plot_gradient_histograms,
                        plot_gradient_norms, plot_kernels, trace)

SEED = 0
EPOCHS = 2 if QUICK else 12
X, y = load_digits()                              # (1797, 1, 8, 8) in [0, 1]
if QUICK:
    X, y = X[:500], y[:500]
X_train, X_val, X_test, y_train, y_val, y_test = train_val_test_split(X, y, seed=SEED)
print("train", X_train.shape, " validation", X_val.shape, " test", X_test.shape)


def make_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),     # (N, 8, 4, 4)
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # (N, 16, 2, 2)
        nn.Flatten(), nn.Linear(64, 10))


mdl.manual_seed(SEED)
model = make_cnn()
summary = model.summary((1, 8, 8))          # one image's shape, without the batch axis
'''),
    md(r"""
    ## Kernels before training

    `plot_kernels(conv)` draws each kernel $W_{o,c}$ as a small image on one colour scale symmetric about 0
    (red positive, blue negative). At initialisation they are noise: PyTorch's default, uniform on
    $\pm 1/\sqrt{\text{fan in}} = \pm 1/3$ for $1 \cdot 3 \cdot 3$ inputs.
    """),
    code('''
fig = plot_kernels(model[0], title="first-layer kernels, at initialisation")
plt.show()
'''),
    md(r"""
    ## Train, with a Monitor watching

    `Monitor(every=n)` is a training callback. Every $n$-th batch it records, through forward hooks, each
    layer's output (mean, standard deviation, the fraction of exact zeros, a sample of values) and, after
    backward, each parameter's gradient (its norm $\lVert g \rVert_2$ and a sample of entries).
    """),
    code('''
monitor = Monitor(every=5)
trainer = Trainer(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=3e-3), callbacks=[monitor],
                  progress=False)
history = trainer.fit((X_train, y_train), val=(X_val, y_val), epochs=EPOCHS, batch_size=32, seed=SEED)
print(f"{history.epochs} epochs: val_accuracy {history['val_accuracy'][-1]:.4f}")
report = monitor.report()
'''),
    md(r"""
    Read the report from the bottom. A dead unit in this healthy network is possible: with only 8 channels,
    one whose kernel and bias start out negative on every input never fires, gets no gradient, and stays
    dead (the section on dead ReLUs below makes this happen on purpose). Gradient norms of a few tenths to a
    few units are healthy here; the flags would say "vanishing" or "EXPLODING".
    """),
    md(r"""
    ## Kernels after training

    The same colour rules. The noise has become patterns: a kernel positive on one side and negative on the
    other responds to an edge (a change of brightness across it), one of a single sign to a bright blob. On
    8×8 images a 3×3 kernel sees a good part of a pen stroke. The second layer has $16 \times 8$ kernels,
    one per (output channel, input channel) pair.
    """),
    code('''
fig = plot_kernels(model[0], title="first-layer kernels, trained")
plt.show()
fig = plot_kernels(model[3], title="second-layer kernels (row: output channel, column: input channel)")
plt.show()
'''),
    md(r"""
    ## Activation histograms

    One panel per layer, one curve per epoch (dark: early, yellow: late), counts on a log scale. After a
    ReLU, the spike at exactly 0 is normal (often a third to a half of the values); a layer whose
    values are *all* at 0, or whose spread grows or shrinks by orders of magnitude from layer to layer, is
    not.
    """),
    code('''
fig = plot_activation_histograms(monitor)
plt.show()
'''),
    md(r"""
    ## Gradient histograms and norms

    By the chain rule, the gradient reaching a layer is a product of the local derivatives above it. If they
    are mostly below 1 the gradients of early layers **vanish** (those layers stop learning); mostly above 1,
    they **explode**. Healthy: each parameter's gradient entries spread over a similar range, and the norms
    stay between the Monitor's thresholds (dashed).
    """),
    code('''
fig = plot_gradient_histograms(monitor)
plt.show()
fig = plot_gradient_norms(monitor)
plt.show()
'''),
    md(r"""
    ## Dead ReLUs, made on purpose

    A ReLU unit whose input is negative for every sample outputs 0 for every sample; its local derivative
    $[h > 0]$ is then 0 everywhere, so no gradient reaches its weights, and it stays dead. Large learning
    rates and large negative biases cause this. We make it happen: the first convolution's bias is set to
    $-5$ for channels 0 to 3. With inputs in $[0, 1]$ and weights within $\pm 1/3$, the 9 products of a
    3×3 window add up to at most 3, so those channels can never fire. The Monitor finds them (and any channel
    that died on its own, as in the healthy network above).
    """),
    code('''
mdl.manual_seed(SEED)
broken = make_cnn()
with mdl.no_grad():
    broken[0].bias.data[:4] = -5.0                 # channels 0-3: pre-activation always below 0
dead_monitor = Monitor(every=5)
Trainer(broken, nn.CrossEntropyLoss(), optim.Adam(broken.parameters(), lr=3e-3), callbacks=[dead_monitor],
        progress=False).fit((X_train, y_train), val=(X_val, y_val), epochs=1, batch_size=32, seed=SEED)
print("dead units per ReLU layer (dead, of):", dead_monitor.dead_counts)
print("dead channels of the first ReLU:", dead_monitor.dead_units["1"])
for issue in dead_monitor.issues():
    print("-", issue)
'''),
    code('''
fig = plot_activation_histograms(dead_monitor, title="with four dead channels in the first layer")
plt.show()
'''),
    md(r"""
    ## The graph, and backward node by node

    The autograd graph of one batch's loss: ops are boxes, parameters ellipses. `trace(loss, model=model)`
    runs backward and prints each node in the order it ran, with its local derivative (the formula line of
    its `Function`) and the norms of the gradients in and out; `draw_graph(loss, path, model=model,
    with_gradients=True)` draws the graph with each edge labelled by the norm of the gradient that flowed
    along it. (It is drawn into a temporary folder, then shown.)
    """),
    code('''
x_batch, y_batch = mdl.tensor(X_train[:32]), mdl.tensor(y_train[:32])
loss = nn.CrossEntropyLoss()(model(x_batch), y_batch)
records = trace(loss, model=model)
'''),
    code('''
from IPython.display import Image, display

model.zero_grad()
loss = nn.CrossEntropyLoss()(model(x_batch), y_batch)
folder = Path(tempfile.mkdtemp(prefix="minidl-tutorial-"))
dot = draw_graph(loss, folder / "graph.png", model=model, with_gradients=True)
display(Image(filename=str(folder / "graph.png")))
print(dot[:400], "...")
'''),
    md(r"""
    **Try it.** Train with `optim.SGD(model.parameters(), lr=2.0)` and watch the Monitor: does it report
    exploding gradients, dead units, or both? Replace `nn.ReLU()` with `nn.LeakyReLU(0.1)` in the broken
    network: can a unit still die?
    """),
]


# ---------------------------------------------------------------------------------------------------------------
# 05: CPU against GPU
# ---------------------------------------------------------------------------------------------------------------
CPU_VS_GPU = [
    md(r"""
    # 5. CPU against GPU: reading a benchmark

    `minidl bench` times one **training step** (forward, cross-entropy, backward, SGD with momentum) of two
    small models, a 784-256-128-10 MLP and LeNet-5, on every backend this machine has: minidl on NumPy (`cpu`),
    minidl on CuPy (`cuda`, when `mdl.cuda.is_available()`), and PyTorch on the same devices (when installed),
    with the same layers and the same initial weights. Here we run its harness, `minidl.benchmark`, in a
    small configuration from Python, and learn to read what it prints: which numbers to trust, and why
    timing is harder than calling a clock twice.

    On a machine without a GPU the notebook runs the CPU rows only; with one, the GPU rows appear in the
    same table and plots. Time on a quiet machine: the load average printed below counts the processes that
    wanted a CPU over the last minute; when it is near or above the number of cores, other programs share
    the cores with the benchmark and every figure becomes slower and noisier.
    """),
    code(QUICK_CELL + '''
import statistics
import time

import numpy as np
import matplotlib.pyplot as plt
from IPython.display import Markdown, display

import minidl as mdl
from minidl import benchmark

BACKENDS = benchmark.available_backends(with_torch=True)   # [(framework, device)]: what this machine runs
print("backends:", ", ".join(f"{framework} {device}" for framework, device in BACKENDS))
print("GPU:", "yes" if mdl.cuda.is_available() else "no (CPU rows only)")
if hasattr(os, "getloadavg"):                             # Unix: processes wanting a CPU, last minute
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", "(busy: expect noisy times)"
          if os.getloadavg()[0] > 0.5 * os.cpu_count() else "")
'''),
    md(r"""
    ## Warm-up: the first steps are not typical

    The first steps of a run pay one-off costs: memory allocation, BLAS starting its threads, caches filling,
    and on a GPU, CuPy compiling each kernel the first time it is used. A benchmark runs
    a few steps before starting the clock. Here are the first single steps of the MLP at batch 64, timed one
    by one:
    """),
    code('''
runner = benchmark.MinidlRunner("mlp", 64, device="cpu")    # the MLP, a batch of random data, SGD momentum
times = []
for _ in range(8):
    start = time.perf_counter()
    runner.step()
    runner.sync()                                             # wait for the device (a no-op on the CPU)
    times.append(time.perf_counter() - start)
print("ms per step, in order:", " ".join(f"{1e3 * t:.2f}" for t in times))
print(f"first step / median of the rest: {times[0] / statistics.median(times[1:]):.1f}x")
'''),
    md(r"""
    ## Synchronisation: a GPU works behind the clock's back

    A GPU call returns as soon as the work is *queued*: the host goes on while the GPU computes. A clock
    read right after a step then measures how long it took to queue it, not to run it. Before every clock
    read the benchmark waits for the device (`runner.sync()`: CuPy's device synchronise, or
    `torch.cuda.synchronize()`). Reading a value to the host (`loss.item()`) waits too. On the CPU, NumPy
    finishes each operation before it returns, so there is nothing to wait for.
    """),
    code('''
if mdl.cuda.is_available():
    gpu = benchmark.MinidlRunner("mlp", 1024, device="cuda")
    for _ in range(3):                                        # warm-up: compile and cache the kernels
        gpu.step()
    gpu.sync()
    start = time.perf_counter()
    for _ in range(20):
        gpu.step()
    queued = time.perf_counter() - start                      # only the launches
    gpu.sync()
    done = time.perf_counter() - start                        # the work itself
    print(f"20 GPU steps: {1e3 * queued:.2f} ms until the last was queued, {1e3 * done:.2f} ms until it finished")
else:
    print("no GPU here: on a GPU machine this cell compares the time to queue 20 steps with the time to run them")
'''),
    md(r"""
    ## Spread: time blocks, repeat, take the median

    One step takes well under a millisecond, close to the clock's and the operating system's noise, and a
    neighbour process can steal the CPU at any moment. So the benchmark times **blocks** (as many steps as
    fill at least `block` seconds, after a warm-up; a block's figure is its mean step), repeats them
    `rounds` times, alternating between backends so that all see the same conditions, and reports the
    **median** over rounds. The spread between rounds (min to max) says how far to trust a figure:
    """),
    code('''
BLOCK = 0.02 if QUICK else 0.2
blocks = [benchmark.time_block(runner.step, runner.sync, BLOCK) for _ in range(3 if QUICK else 7)]
median, (low, high) = benchmark.ratio_stats(blocks)
print(f"ms per step, {len(blocks)} blocks:", " ".join(f"{1e3 * t:.3f}" for t in blocks))
print(f"median {1e3 * median:.3f} ms, spread {1e3 * low:.3f} to {1e3 * high:.3f} ms "
      f"({100 * (high - low) / median:.0f} % of the median)")
'''),
    md(r"""
    ## The harness: every backend, several batch sizes

    `benchmark.run(models, batch_sizes, rounds, block, backends)` is what `minidl bench` runs (there with
    batches 64 to 512, 3 rounds of 0.3 s). It returns a dictionary (`results["runs"]`: one entry per model,
    batch and backend) and `benchmark.markdown_table(results)` is the table `minidl bench` writes.
    """),
    code('''
if QUICK:
    MODELS, BATCHES, ROUNDS = ("mlp",), (8, 64), 1
else:
    MODELS, BATCHES, ROUNDS = ("mlp", "lenet"), (16, 64, 256, 1024), 3
results = benchmark.run(models=MODELS, batch_sizes=BATCHES, rounds=ROUNDS, block=BLOCK, backends=BACKENDS,
                        log=lambda line: None)
display(Markdown(benchmark.markdown_table(results)))
'''),
    md(r"""
    ## How to read the table

    * **ms/step**: the median over rounds of the mean time of one training step. **samples/s** is the
      batch size divided by it: the figure to compare across batch sizes.
    * **forward / backward / update**: the same step cut by clock reads (with synchronisation) between its
      phases. Backward usually costs about twice the forward: it computes two products per layer (the
      gradient for the weights, and the one passed down), the forward one.
    * **% of GEMM rate**: the step's matrix-product work (floating-point operations, 2 per multiply-add)
      divided by its time and by the speed this device reached on a large float32 matrix product. It says how
      far a step is from the machine's limit; small batches stay far below it (their time goes to passes over
      memory and per-operation overheads, not arithmetic).
    * **ratio to PyTorch**: minidl's time divided by PyTorch's on the same device, the median of the
      per-round ratios (both measured in the same round, so a slow round affects both). Above 1: minidl is
      slower. A ratio is steadier than either time: compare ratios between machines, not times.

    The spread of each row (its rounds, min to max):
    """),
    code('''
print(f"{'model':>5} {'batch':>5} {'backend':>12} {'median ms':>10} {'min-max ms':>17} {'spread':>7}")
for e in results["runs"]:
    rounds = e["ms_per_step_rounds"]
    print(f"{e['model']:>5} {e['batch']:>5} {e['framework'] + ' ' + e['device']:>12} {e['ms_per_step']:10.3f} "
          f"{min(rounds):8.3f}-{max(rounds):<8.3f} {100 * (max(rounds) - min(rounds)) / e['ms_per_step']:6.0f}%")
'''),
    md(r"""
    ## The crossover plot

    Throughput (samples per second) against the batch size, one line per backend. A bigger batch does more
    work per operation, so the fixed cost of each operation (Python, the autograd graph, launching a GPU
    kernel: some microseconds each) is shared by more samples. On a GPU that fixed cost dominates small
    batches, so the CPU wins there; as the batch grows the GPU's lines climb until its arithmetic is busy.
    The **crossover** is the batch size where two lines cross: below it one backend is faster, above it the
    other. Where the lines do not cross in the range measured, one backend is faster at every batch size
    tried.
    """),
    code('''
def series(model, backend):
    rows = sorted((e["batch"], e["samples_per_s"]) for e in results["runs"]
                  if e["model"] == model and f"{e['framework']} {e['device']}" == backend)
    return [b for b, _ in rows], np.array([s for _, s in rows])


def crossovers(model, first, second):
    """Batch-size intervals where `first` and `second` change places."""
    batches, a = series(model, first)
    _, b = series(model, second)
    faster = np.sign(a - b)
    return [(batches[i], batches[i + 1]) for i in range(len(batches) - 1) if faster[i] != faster[i + 1]]


names = [f"{framework} {device}" for framework, device in BACKENDS]
fig, axes = plt.subplots(1, len(MODELS), figsize=(5.5 * len(MODELS), 4), squeeze=False)
for ax, model in zip(axes[0], MODELS):
    for name in names:
        ax.plot(*series(model, name), marker="o", label=name)
    for i, first in enumerate(names):                         # shade where two backends change places
        for second in names[i + 1:]:
            for low, high in crossovers(model, first, second):
                ax.axvspan(low, high, color="tab:gray", alpha=0.15)
    ax.set_xscale("log", base=2)
    ax.set_xticks(BATCHES, [str(b) for b in BATCHES])
    ax.set(yscale="log", xlabel="batch size", ylabel="training samples / s", title=f"{model} (grey: a crossover)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
plt.show()

for model in MODELS:
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            for low, high in crossovers(model, first, second):
                print(f"{model}: {first} and {second} change places between batch {low} and {high}")
'''),
    md(r"""
    **Try it.** `minidl bench --out bench` from a terminal runs the full configuration and writes
    `results.md`, `results.json` and `throughput.png`; the measured tables of a 2-core CPU and an H100 GPU
    are in `benchmarks/RESULTS.md`. Set `OMP_NUM_THREADS=1` before starting Python and compare the ratios.
    """),
]


NOTEBOOKS = {
    "01_backprop_by_hand.ipynb": BACKPROP_BY_HAND,
    "02_write_your_own_op.ipynb": YOUR_OWN_OP,
    "03_course_method.ipynb": COURSE_METHOD,
    "04_inside_a_cnn.ipynb": INSIDE_A_CNN,
    "05_cpu_vs_gpu.ipynb": CPU_VS_GPU,
}


def build(name):
    """The notebook `name` (a key of NOTEBOOKS) as an nbformat object, without outputs; cell ids are stable
    (name and position), so that writing it again changes nothing."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                   "language_info": {"name": "python"}}
    stem = name.split("_")[0]
    nb.cells = [nbformat.from_dict({**cell, "id": f"nb{stem}-{i:02d}"}) for i, cell in enumerate(NOTEBOOKS[name])]
    nbformat.validate(nb)
    return nb


def main(folder=HERE):
    for name in NOTEBOOKS:
        nbformat.write(build(name), Path(folder) / name)
        print("wrote", Path(folder) / name)


if __name__ == "__main__":
    main(*sys.argv[1:])
