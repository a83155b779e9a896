"""`Module.summary`: a Keras-style table of layers, output shapes and parameter counts."""

from minidl.autograd import no_grad
from minidl.creation import zeros


def summarize(model, input_shape, device=None, dtype=None):
    """Run one forward pass on zeros of shape (1, *input_shape) and tabulate every leaf layer.

    Returns the table as a string (and prints it). Output shapes show the batch axis as None.
    """
    if device is None:
        device = next((p.device for p in model.parameters()), "cpu")
    if dtype is None:
        dtype = next((p.dtype for p in model.parameters()), None)
    rows, handles = [], []
    for name, module in model.named_modules():
        if next(module.children(), None) is None:  # leaf layers carry the rows
            handles.append(module.register_forward_hook(_recorder(rows, name, module)))
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            model(zeros((1,) + tuple(input_shape), dtype=dtype, device=device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)

    total = sum(p.size for p in model.parameters())
    trainable = sum(p.size for p in model.parameters() if p.requires_grad)
    header = ("Layer (type)", "Output Shape", "Param #")
    table = [header] + [(f"{name} ({type(m).__name__})" if name else type(m).__name__, shape, f"{count:,}")
                        for name, m, shape, count in rows]
    widths = [max(len(row[i]) for row in table) + 2 for i in range(3)]
    rule = "=" * sum(widths)

    def line(row):
        return row[0].ljust(widths[0]) + row[1].ljust(widths[1]) + row[2].rjust(widths[2])

    lines = [f'Model: "{type(model).__name__}"', rule, line(header), rule]
    lines += [line(row) for row in table[1:]]
    lines += [rule, f"Total params: {total:,}", f"Trainable params: {trainable:,}",
              f"Non-trainable params: {total - trainable:,}", rule]
    text = "\n".join(lines)
    print(text)
    return text


def _recorder(rows, name, module):
    def hook(mod, inputs, output):
        while isinstance(output, tuple):  # RNN, LSTM, GRU return (output, h_n): show the output
            output = output[0]
        shape = "(None, " + ", ".join(str(n) for n in output.shape[1:]) + ")" if output.ndim > 1 else "(None,)"
        count = sum(p.size for p in mod.parameters(recurse=False))
        rows.append((name, module, shape, count))
    return hook
