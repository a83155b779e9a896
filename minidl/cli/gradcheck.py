"""`minidl gradcheck`: every differentiable op against central differences in float64, as a table."""

import time

import numpy as np


def add_parser(commands):
    commands.add_parser("gradcheck", help="check every op's backward against finite differences (float64)",
                        description="Run the numerical gradient check of every differentiable op on small "
                                    "float64 inputs and print a table; exit status 1 if any fails.")


def gradcheck_cases():
    """(name, fn, inputs) for every op of the table (minidl/op_table.py, shared with the tests) that has
    an example: its small float64 inputs as tensors that require grad."""
    import minidl as mdl
    from minidl.op_table import OPS

    rng = np.random.default_rng(0)
    cases = []
    for case in OPS:
        if case.example is None:
            continue
        arrays, kwargs = case.example(rng)
        inputs = tuple(mdl.tensor(a, dtype=mdl.float64, requires_grad=True) for a in arrays)
        cases.append((case.name, lambda *xs, call=case.mdl, kwargs=kwargs: call(*xs, **kwargs), inputs))
    return cases


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
