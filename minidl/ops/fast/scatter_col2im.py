"""col2im in one scatter-add, for devices where every array call is a kernel launch (the GPU:
Backend.launch_bound). The reference col2im adds kh*kw strided slices, kh*kw launches; here every
element goes back to the flat position it was read from in one `scatter_add`. Same values and
gradients as the references Conv2d and MaxPool2d (minidl/ops/conv.py, pooling.py).
"""

import math

from minidl.backend.cuda_kernels import MAX_POOL_ROUTE
from minidl.ops.conv import Conv2d, crop_spatial
from minidl.ops.pooling import MaxPool2d

_CACHED_GEOMETRIES = 8  # window positions kept per backend (Backend.index_cache), most recently used last


def window_positions(backend, padded_shape, kernel_size, stride, order):
    """The flat position in an array of `padded_shape` (N, C, Hp, Wp) of every element of every window,
    laid out as the window view (N, C, kh, kw, Ho, Wo) transposed by `order`: the sliding windows of an
    array that holds its own positions. int32 where they fit. Kept in backend.index_cache."""
    key = ("window_positions", padded_shape, kernel_size, stride, order)
    cache = backend.index_cache
    positions = cache.pop(key, None)
    if positions is None:
        xp, size = backend.xp, math.prod(padded_shape)
        flat = xp.arange(size, dtype="int32" if size < 2 ** 31 else "int64").reshape(padded_shape)
        positions = xp.ascontiguousarray(backend.sliding_windows(flat, kernel_size, stride).transpose(order))
        if len(cache) >= _CACHED_GEOMETRIES:
            cache.pop(next(iter(cache)))
    cache[key] = positions
    return positions


def add_windows_back(backend, cols, padded_shape, kernel_size, stride, order):
    """col2im in one scatter-add: a zero array of `padded_shape` (N, C, Hp, Wp) with every element of
    `cols` added at the position it was read from (overlapping windows add up). cols holds the window
    view (N, C, kh, kw, Ho, Wo) transposed by `order`."""
    grad = backend.xp.zeros(math.prod(padded_shape), dtype=cols.dtype)
    positions = window_positions(backend, padded_shape, kernel_size, stride, order)
    backend.scatter_add(grad, positions.reshape(-1), cols.reshape(-1))
    return grad.reshape(padded_shape)


COLUMN_ORDER = (1, 2, 3, 0, 4, 5)  # im2col's columns (C, kh, kw, N, Ho, Wo) from the window view
WINDOW_ROWS = (0, 1, 4, 5, 2, 3)   # max pooling's rows (N, C, Ho, Wo, kh, kw) from the window view


class Conv2dScatterAdd(Conv2d):
    """Y = W @ cols + b;   dL/dW = dY @ colsᵀ,   dL/db = Σ dY,   dL/dx = col2im(Wᵀ @ dY)   (one scatter-add)

    The reference forward (Conv2d); backward's col2im is one scatter-add (`add_windows_back`).
    """

    name = "Conv2d"  # the op it computes, as graphs, traces and parity show it

    @staticmethod
    def applies(backend, stride):
        return backend.launch_bound

    def backward(self, gy):
        cols, w = self.saved
        x_shape, padded_shape = self.shapes
        n, o, ho, wo = gy.shape
        gy2 = gy.transpose(1, 0, 2, 3).reshape(o, n * ho * wo)
        gx = gw = gb = None
        if self.needs_grad[0]:
            gcols = w.reshape(o, -1).T @ gy2                         # (C*kh*kw, N*Ho*Wo): (C, kh, kw, N, Ho, Wo)
            gpad = add_windows_back(self.backend, gcols, padded_shape, w.shape[2:], self.stride, COLUMN_ORDER)
            gx = crop_spatial(gpad, self.padding, x_shape)
        if self.needs_grad[1]:
            gw = (gy2 @ cols.T).reshape(w.shape)
        if len(self.needs_grad) > 2 and self.needs_grad[2]:
            gb = gy2.sum(axis=1)
        return (gx, gw) if len(self.needs_grad) == 2 else (gx, gw, gb)


class MaxPool2dScatterAdd(MaxPool2d):
    """y = max over each window of xpad;   dL/dx = dL/dy routed to the window's (first) maximum   (one scatter-add)

    The reference forward (MaxPool2d); backward routes dL/dy to the argmax in one compiled kernel where
    the device has them (backend/cuda_kernels.py), and adds the windows back in one scatter-add.
    """

    name = "MaxPool2d"  # the op it computes, as graphs, traces and parity show it

    @staticmethod
    def applies(backend, x_shape, kernel_size, stride, padding):
        return backend.launch_bound

    def backward(self, gy):
        xp, (kh, kw) = self.xp, self.kernel_size
        (index,) = self.saved
        x_shape, padded_shape = self.shapes
        kernel = self.backend.elementwise_kernel(*MAX_POOL_ROUTE)
        if kernel is None:
            routed = (index[..., None] == xp.arange(kh * kw)) * gy[..., None]  # (N, C, Ho, Wo, kh*kw)
        else:
            routed = kernel(index, gy, kh * kw, xp.empty(index.shape + (kh * kw,), gy.dtype))
        gpad = add_windows_back(self.backend, routed, padded_shape, self.kernel_size, self.stride, WINDOW_ROWS)
        return crop_spatial(gpad, self.padding, x_shape)
