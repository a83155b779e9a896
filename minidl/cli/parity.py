"""`minidl parity`: the same model and batch on two devices, compared op by op."""

from minidl.cli.args import UsageError, float_in, integer, positive_int


def add_parser(commands):
    parity = commands.add_parser(
        "parity", help="run a model on two devices from the same weights; name the first op that differs",
        description="Run LeNet-5 or the MLP (random weights, a random batch of 28x28 images) forward and "
                    "backward on two devices and report the first op whose outputs differ beyond the "
                    "tolerance, and any parameter gradient that differs. Exit status 1 on a mismatch.")
    parity.add_argument("--model", choices=("lenet", "mlp"), default="lenet", help="model (default lenet)")
    parity.add_argument("--devices", default="cpu,cuda", help="two devices, comma-separated (default cpu,cuda; "
                                                               "cpu,strict checks the stand-in device)")
    parity.add_argument("--batch-size", type=positive_int, default=16, help="batch size (default 16)")
    parity.add_argument("--rtol", type=float_in(0, None), default=1e-4, help="relative tolerance (1e-4)")
    parity.add_argument("--atol", type=float_in(0, None), default=1e-5, help="absolute tolerance (1e-5)")
    parity.add_argument("--seed", type=integer, default=0, help="random seed (weights and data)")


def run(args):
    """`minidl parity`: the same model and batch on two devices, compared op by op."""
    import numpy as np

    import minidl as mdl
    import minidl.nn as nn
    from minidl.parity import check_parity
    from minidl.zoo import lenet, mlp

    devices = tuple(d.strip() for d in args.devices.split(","))
    if len(devices) != 2:
        raise UsageError(f"--devices needs two devices such as cpu,cuda, got {args.devices!r}")
    if "cuda" in devices and not mdl.cuda.is_available():
        raise UsageError("--devices includes cuda, but no working GPU was found (CuPy: pip install 'minidl[gpu]'); "
                         "try --devices cpu,strict to exercise the check on the CPU stand-in device")
    mdl.manual_seed(args.seed)
    model = lenet((1, 28, 28), 10) if args.model == "lenet" else mlp(784, 10)
    rng = np.random.default_rng(args.seed)
    x = rng.random((args.batch_size, 1, 28, 28), dtype=np.float32)
    if args.model == "mlp":
        x = x.reshape(args.batch_size, 784)
    report = check_parity(model, x, devices=devices, rtol=args.rtol, atol=args.atol,
                          loss_fn=nn.CrossEntropyLoss(), target=rng.integers(0, 10, args.batch_size))
    print(report)
    return 0 if report.ok else 1


# ------------------------------------------------------------------------------------------------------------------
