"""`minidl gradcheck`: every differentiable op against central differences in float64, as a table."""

import time

import numpy as np


def add_parser(commands):
    commands.add_parser("gradcheck", help="check every op's backward against finite differences (float64)",
                        description="Run the numerical gradient check of every differentiable op on small "
                                    "float64 inputs and print a table; exit status 1 if any fails.")


def gradcheck_cases():
    """(name, input shapes, fn, inputs) for every differentiable op, on small float64 inputs."""
    import minidl as mdl
    import minidl.nn.functional as F

    rng = np.random.default_rng(0)

    def t(*shape, low=None, high=None, grad=True):
        a = rng.uniform(low, high, shape) if low is not None else rng.standard_normal(shape)
        return mdl.tensor(a.astype(np.float64), requires_grad=grad)

    def away(*shape):  # |x| in [0.5, 1.5]: no kinks (abs, relu, max) within a finite-difference step
        a = rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
        return mdl.tensor(a, requires_grad=True)

    def distinct(*shape):  # well-separated values: no ties for max/min/pooling
        a = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 + rng.uniform(0, 0.01, shape)
        return mdl.tensor(a.astype(np.float64), requires_grad=True)

    labels = mdl.tensor(np.array([0, 2, 1, 2]))
    binary = mdl.tensor(np.array([0.0, 1.0, 1.0, 0.0]))
    rm, rv = mdl.zeros(3, dtype=mdl.float64), mdl.ones(3, dtype=mdl.float64)
    return [
        ("add", lambda a, b: a + b, (t(3, 4), t(4))),
        ("sub", lambda a, b: a - b, (t(3, 4), t(3, 1))),
        ("mul", lambda a, b: a * b, (t(3, 4), t(4))),
        ("div", lambda a, b: a / b, (t(3, 4), t(3, 4, low=0.5, high=2.0))),
        ("pow", lambda a: a ** 3, (t(3, 4),)),
        ("neg", lambda a: -a, (t(3, 4),)),
        ("matmul", lambda a, b: a @ b, (t(3, 4), t(4, 5))),
        ("matmul (batched)", lambda a, b: a @ b, (t(2, 3, 4), t(4, 2))),
        ("exp", mdl.exp, (t(3, 4),)),
        ("log", mdl.log, (t(3, 4, low=0.5, high=2.0),)),
        ("sqrt", mdl.sqrt, (t(3, 4, low=0.5, high=2.0),)),
        ("abs", mdl.abs, (away(3, 4),)),
        ("clip", lambda a: mdl.clip(a, -0.2, 0.2), (away(3, 4),)),
        ("maximum", mdl.maximum, (distinct(3, 4), t(3, 4))),
        ("minimum", mdl.minimum, (distinct(3, 4), t(3, 4))),
        ("where", lambda a, b: mdl.where(a > 0, a, b), (away(3, 4), t(3, 4))),
        ("relu", mdl.relu, (away(3, 4),)),
        ("leaky_relu", lambda a: mdl.leaky_relu(a, 0.1), (away(3, 4),)),
        ("sigmoid", mdl.sigmoid, (t(3, 4),)),
        ("tanh", mdl.tanh, (t(3, 4),)),
        ("softmax", lambda a: mdl.softmax(a, axis=-1), (t(3, 4),)),
        ("log_softmax", lambda a: mdl.log_softmax(a, axis=-1), (t(3, 4),)),
        ("logsumexp", lambda a: mdl.logsumexp(a, axis=1), (t(3, 4),)),
        ("sum", lambda a: mdl.sum(a, axis=(0, 2)), (t(2, 3, 4),)),
        ("mean", lambda a: mdl.mean(a, axis=1, keepdims=True), (t(2, 3, 4),)),
        ("max", lambda a: mdl.max(a, axis=1), (distinct(3, 4),)),
        ("min", lambda a: mdl.min(a, axis=0), (distinct(3, 4),)),
        ("var", lambda a: mdl.var(a, axis=1, ddof=1), (t(3, 4),)),
        ("reshape", lambda a: mdl.reshape(a, (4, 3)), (t(3, 4),)),
        ("transpose", lambda a: mdl.transpose(a, (2, 0, 1)), (t(2, 3, 4),)),
        ("getitem", lambda a: a[1:, [0, 2, 2]], (t(3, 4),)),
        ("concatenate", lambda a, b: mdl.concatenate([a, b], axis=1), (t(3, 2), t(3, 4))),
        ("stack", lambda a, b: mdl.stack([a, b], axis=0), (t(3, 4), t(3, 4))),
        ("pad", lambda a: mdl.pad(a, ((0, 0), (1, 2))), (t(3, 4),)),
        ("expand_dims", lambda a: mdl.expand_dims(a, 1), (t(3, 4),)),
        ("squeeze", lambda a: mdl.squeeze(a, 1), (t(3, 1, 4),)),
        ("linear", F.linear, (t(5, 4), t(3, 4), t(3))),
        ("conv2d", lambda x, w, b: F.conv2d(x, w, b, padding=1), (t(2, 3, 5, 5), t(4, 3, 3, 3), t(4))),
        ("conv2d (stride 2)", lambda x, w: F.conv2d(x, w, stride=2), (t(2, 2, 6, 6), t(3, 2, 2, 2))),
        ("max_pool2d", lambda x: F.max_pool2d(x, 2), (distinct(2, 2, 4, 4),)),
        ("avg_pool2d", lambda x: F.avg_pool2d(x, 2, padding=1), (t(2, 2, 4, 4),)),
        ("batch_norm (train)", lambda x, w, b: F.batch_norm(x, rm.astype(mdl.float64), rv.astype(mdl.float64), w, b,
                                                             training=True), (t(6, 3), t(3), t(3))),
        ("batch_norm 2d (train)", lambda x: F.batch_norm(x, mdl.zeros(2, dtype=mdl.float64),
                                                         mdl.ones(2, dtype=mdl.float64), training=True),
         (t(3, 2, 3, 3),)),
        ("batch_norm (eval)", lambda x, w: F.batch_norm(x, rm, rv, w, training=False), (t(4, 3), t(3))),
        ("cross_entropy", lambda x: F.cross_entropy(x, labels), (t(4, 3),)),
        ("cross_entropy (smoothing)", lambda x: F.cross_entropy(x, labels, label_smoothing=0.1), (t(4, 3),)),
        ("nll_loss", lambda x: F.nll_loss(F.log_softmax(x, axis=-1), labels), (t(4, 3),)),
        ("binary_cross_entropy", lambda p: F.binary_cross_entropy(p, binary), (t(4, low=0.1, high=0.9),)),
        ("bce_with_logits", lambda x: F.binary_cross_entropy_with_logits(x, binary), (t(4),)),
        ("mse_loss", F.mse_loss, (t(3, 4), t(3, 4))),
        ("l1_loss", lambda a, b: F.l1_loss(a, b + 3.0), (t(3, 4), t(3, 4))),
        ("huber_loss", lambda a: F.huber_loss(a, mdl.zeros(3, 4, dtype=mdl.float64) + 0.05), (away(3, 4),)),
    ]


def _max_abs_error(fn, inputs, eps=1e-6):
    """max |analytic - numeric| over every input's gradient of sum(w * fn(inputs)), w fixed random."""
    import minidl as mdl

    xs = [x.detach() for x in inputs]
    for x, original in zip(xs, inputs):
        x.requires_grad = original.requires_grad
    out = fn(*xs)
    weights = np.random.default_rng(1).standard_normal(out.shape)
    (out * mdl.tensor(weights)).sum().backward()
    worst = 0.0
    for x in xs:
        if not x.requires_grad:
            continue
        analytic = np.zeros(x.shape) if x.grad is None else x.grad.numpy()
        data = x.data
        numeric = np.zeros(x.shape)
        with mdl.no_grad():
            for i in np.ndindex(*x.shape):
                saved = data[i]
                data[i] = saved + eps
                up = float((fn(*xs).numpy() * weights).sum())
                data[i] = saved - eps
                down = float((fn(*xs).numpy() * weights).sum())
                data[i] = saved
                numeric[i] = (up - down) / (2 * eps)
        worst = max(worst, float(np.max(np.abs(analytic - numeric))) if analytic.size else 0.0)
    return worst


def run():
    """`minidl gradcheck`: a table of ops, their input shapes, the largest gradient error, pass or FAIL."""
    import minidl as mdl

    rows, failures = [], []
    started = time.perf_counter()
    for name, fn, inputs in gradcheck_cases():
        shapes = " ".join("x".join(map(str, x.shape)) or "()" for x in inputs)
        try:
            mdl.gradcheck(fn, inputs)
            ok, note = True, ""
        except Exception as error:  # GradcheckError, or the op raised
            ok, note = False, str(error).splitlines()[0]
        try:
            error_value = f"{_max_abs_error(fn, inputs):.1e}"
        except Exception as error:
            error_value, note = "-", note or f"{type(error).__name__}: {error}"
        rows.append((name, shapes, error_value, "pass" if ok else "FAIL"))
        if not ok:
            failures.append(f"{name}: {note}")
    widths = [max(len(r[i]) for r in rows + [("op", "input shapes", "max abs error", "result")]) for i in range(4)]
    line = lambda r: f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}"  # noqa: E731
    print(line(("op", "input shapes", "max abs error", "result")))
    print("-" * (sum(widths) + 8))
    for row in rows:
        print(line(row))
    print("-" * (sum(widths) + 8))
    passed = len(rows) - len(failures)
    print(f"{passed} of {len(rows)} ops pass (float64, central differences, eps 1e-6, atol 1e-5, rtol 1e-3) "
          f"in {time.perf_counter() - started:.1f} s")
    for failure in failures:
        print(f"FAIL {failure}")
    return 1 if failures else 0
