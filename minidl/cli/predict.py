"""`minidl predict RUN_DIR IMAGE...`: the top classes of your own pictures, with the model of a run."""

from minidl.cli.args import UsageError, positive_int


def add_parser(commands):
    predict = commands.add_parser(
        "predict", help="classify your own PNG/JPEG pictures with a model that 'minidl train' saved",
        description="Read each picture, make it look like the training images (grey, light ink on a dark "
                    "background when the training images were so, cropped to the object, resized to the "
                    "training size, scaled to [0, 1]) and print the most probable classes with their "
                    "probabilities. RUN_DIR is a folder 'minidl train' wrote (model.npz and model.json).")
    predict.add_argument("run_dir", metavar="RUN_DIR", help="a run folder, e.g. runs/mnist-mlp")
    predict.add_argument("images", metavar="IMAGE", nargs="+", help="PNG or JPEG files")
    predict.add_argument("--top", type=positive_int, default=3, help="how many classes to show (default 3)")


def run(args):
    """Print, per picture, its top classes: `seven.png: 7 0.981  1 0.012  9 0.004`."""
    from minidl.errors import MinidlError
    from minidl.saved_run import load_run

    try:
        saved = load_run(args.run_dir)
        predictions = saved.predict_images(args.images, top=args.top)
    except MinidlError as error:
        raise UsageError(str(error)) from None
    width = max(len(path) for path in args.images)
    for path, best in zip(args.images, predictions):
        shown = "  ".join(f"{name} {p:.3f}" for name, p in best)
        print(f"{path:<{width}}  {shown}")
    return 0
