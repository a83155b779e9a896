"""PyTorch spellings where minidl uses NumPy's names: a hint with the name to use, instead of a bare error.

minidl follows NumPy for tensor methods and functions (`axis=`, `keepdims=`, `reshape`, `expand_dims`,
`transpose`, `concatenate`); these tables turn the PyTorch habit into a message that names the NumPy spelling.
The aliases are not accepted: one name per thing keeps the code and the docs the learner reads consistent.
"""

from minidl.errors import ArgumentTypeError

# PyTorch name -> minidl (NumPy) name
METHODS = {"view": "reshape(*shape)", "unsqueeze": "expand_dims(axis)", "permute": "transpose(*axes)",
           "dim": "ndim", "numel": "size", "clamp": "clip(a_min, a_max)", "mm": "matmul(other) or @",
           "detach_": "detach()", "contiguous": "nothing: every tensor can be reshaped"}
FUNCTIONS = {"cat": "concatenate(tensors, axis=0)", "unsqueeze": "expand_dims(x, axis)",
             "permute": "transpose(x, *axes)", "clamp": "clip(x, a_min, a_max)", "mm": "matmul(a, b)"}
KEYWORDS = {"dim": "axis", "keepdim": "keepdims"}


def attribute_error(owner, name, table):
    """The AttributeError for `owner.name`, with the NumPy spelling when `name` is a PyTorch habit."""
    message = f"{owner} has no attribute {name!r}"
    if name in table:
        message += f"; minidl uses NumPy's names: {table[name]}"
    return AttributeError(message)


def keyword_error(function, keywords):
    """The TypeError for keyword arguments `function` does not take, naming the NumPy keyword for PyTorch's."""
    hints = [f"{k}= is {KEYWORDS[k]}= here (NumPy's name)" for k in keywords if k in KEYWORDS]
    others = [k for k in keywords if k not in KEYWORDS]
    parts = hints + ([f"unexpected keyword argument(s) {', '.join(map(repr, others))}"] if others else [])
    return ArgumentTypeError(f"{function}: " + "; ".join(parts))
