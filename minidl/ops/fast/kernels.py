"""Backwards as one compiled elementwise kernel, on devices that compile them (CuPy:
Backend.has_elementwise_kernels). The CUDA C sources live with the GPU backend
(minidl/backend/cuda_kernels.py). Same values and gradients as the references ReLU and CrossEntropy.
"""

from minidl.backend.cuda_kernels import RELU_GRAD, SOFTMAX_MINUS_ONEHOT
from minidl.ops.activation import ReLU
from minidl.ops.loss import CrossEntropy


class ReLUOneKernel(ReLU):
    """y = max(x, 0);   dL/dx = dL/dy where y > 0, else 0   (backward: one kernel)"""

    name = "ReLU"  # the op it computes, as graphs, traces and parity show it

    @staticmethod
    def applies(backend):
        return backend.has_elementwise_kernels

    def backward(self, gy):
        (y,) = self.saved
        return self.backend.elementwise_kernel(*RELU_GRAD)(y, gy)


class CrossEntropyOneKernel(CrossEntropy):
    """loss_i = -log softmax(z_i)[t_i];   dL/dz_i = (softmax(z_i) - onehot(t_i)) * dL/dloss_i   (backward: one kernel)

    The reference forward (CrossEntropy); without class weights or label smoothing, the backward
    (p - onehot(t)) * dL/dloss is one kernel instead of a product and an indexed subtraction.
    """

    name = "CrossEntropy"  # the op it computes, as graphs, traces and parity show it

    @staticmethod
    def applies(backend, weighted, smoothing):
        return backend.has_elementwise_kernels and not weighted and not smoothing

    def backward(self, gy):
        p, _ = self.saved                                  # p: (N, C)
        n, c = p.shape
        if self.reduction == "mean":
            gy = gy / self.denominator
        kernel = self.backend.elementwise_kernel(*SOFTMAX_MINUS_ONEHOT)
        return kernel(p, self.target, gy.reshape(-1), c, int(gy.size > 1), self.xp.empty((n, c), dtype=p.dtype))
