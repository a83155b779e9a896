"""`Parameter`: a Tensor that a Module learns (requires grad, listed by `parameters()`)."""

from minidl.creation import zeros
from minidl.tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor that is a learnable weight of a Module; requires grad unless told otherwise."""

    __slots__ = ()

    def __init__(self, data, requires_grad=True):
        if isinstance(data, Tensor):
            data = data.data
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def empty_parameter(shape, dtype=None, device="cpu", order="C"):
    """A zero-filled Parameter (float32 by default) for a layer to initialise, in memory order `order`
    ("C" row-major, "F" column-major: see Backend.linear_weight_order)."""
    p = Parameter(zeros(shape, dtype=dtype, device=device))
    if order != "C":
        p.data = p.backend.xp.zeros(p.shape, dtype=p.dtype, order=order)
    return p
