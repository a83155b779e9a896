"""conv2d -> relu -> max_pool2d, asked for by name (nn.fuse's Conv2dReLUMaxPool2d module calls it).

The reference is the three ops, one node each. Where the geometry allows it on the CPU, the fast path
is one node (minidl/ops/fast/conv_relu_pool.py: the pool reads each chunk of the convolution's output
while it is in cache) with the same values and gradients.
"""

from minidl.arguments import as_tensor_arguments
from minidl.autograd import is_grad_enabled
from minidl.ops import fast
from minidl.ops.conv import check_conv2d, conv2d, int_pair
from minidl.ops.pooling import relu_max_pool2d


def conv2d_relu_max_pool2d(x, w, b=None, stride=1, padding=0, pool_kernel=2, pool_stride=None, pool_padding=0):
    """max_pool2d(relu(conv2d(x, w, b, stride, padding)), pool_kernel, pool_stride, pool_padding): one
    node (fast.Conv2dReLUMaxPool2d) where a fast path takes it, else conv2d then relu_max_pool2d.
    Same values and gradients either way."""
    x, w, b = as_tensor_arguments("conv2d", ("x", "w", "b"), (x, w, b), required=("x", "w"))
    if x.ndim == 4 and w.ndim == 4:
        stride, padding = check_conv2d(x, w, b, stride, padding)
        kernel = int_pair(pool_kernel, "kernel_size", "max_pool2d", minimum=1)
        conv_hw = (x.shape[2] + 2 * padding[0] - w.shape[2] + 1, x.shape[3] + 2 * padding[1] - w.shape[3] + 1)
        op = fast.choose("conv2d_relu_max_pool2d", x._backend, stride=stride, conv_out_hw=conv_hw,
                         pool_kernel=kernel,
                         pool_stride=kernel if pool_stride is None else int_pair(pool_stride, "stride", "max_pool2d",
                                                                               minimum=1),
                         pool_padding=int_pair(pool_padding, "padding", "max_pool2d"))
        if op is not None:
            needs = x.requires_grad or w.requires_grad or (b is not None and b.requires_grad)
            fn = op(padding, kernel, needs and is_grad_enabled())
            return fn(x, w) if b is None else fn(x, w, b)
    return relu_max_pool2d(conv2d(x, w, b, stride, padding), pool_kernel, pool_stride, pool_padding)
