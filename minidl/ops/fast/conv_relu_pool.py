"""Conv2d -> ReLU -> MaxPool2d as one node: the pool runs on each chunk of the convolution's matrix
product while it is still in cache, in the product's own layout, and the full-size convolution output
is never made, in forward or in backward.

The stride-1 convolution (Conv2d) computes its output a few images at a time as a product
(O*u, m*L) whose rows are output rows e of each block of u rows and whose columns are the positions
r*Wp + s of the padded width. Unfused, each chunk is copied into the full (N, O, Ho, Wo) output (at
batch 1000, 14 MB for LeNet-5's first layer), the pool reads it back, and backward widens the full dL/dz
into the product's layout again, twice. Here:

    forward:   z chunk (product layout) -> max over kw columns -> max over kh rows -> pooled (N, O, Hy, Wy)
    backward:  dL/dy * (y > 0) -> to the argmax row -> to the argmax column -> dL/dz in the product's
               layout, which the convolution's dL/dW and dL/dx products take as they are

Values and gradients are those of the three ops:
    z = conv2d(x, w, b),   y = relu(max_pool2d(z))   (max and ReLU commute: see ReLUMaxPool2d)
    dL/dz = the pool's routing of dL/dy * (y > 0);   dL/dx, dL/dw, dL/db = Conv2d's backward of dL/dz

A fast path only where the user asked for the fusion (nn.fuse, F.conv2d_relu_max_pool2d); on the CPU
only (a GPU runs the whole batch in one product: Backend.launch_bound), and when both fast paths apply
(`fusable`): a stride-1 convolution and a pool whose windows tile its output (stride = kernel, no
padding, Ho and Wo divisible). The product-layout route also needs u
(the convolution's rows per block) a multiple of kh and Wp a multiple of kw; otherwise each chunk is
copied to a small dense scratch and pooled there (MaxPool2dTiled's pool), with the plain backwards.

ReLUMaxPool2d, for a ReLU -> MaxPool2d pair: the pool runs on z and the ReLU on the pooled output.
"""

from minidl.autograd import Function
from minidl.ops.fast.conv_row_blocked import Conv2dRowBlocked, _ceil_div
from minidl.ops.fast.pool_tiled import MaxPool2dOffsets, MaxPool2dTiled, _running_max, route_by_index, tiled_max
from minidl.ops.pooling import MaxPool2d


def fusable(stride, conv_out_hw, pool_kernel, pool_stride, pool_padding):
    """True when Conv2dReLUMaxPool2d takes conv (stride) -> ReLU -> max pool (kernel, stride, padding)
    on a convolution output of spatial size conv_out_hw (all pairs)."""
    (ho, wo), (kh, kw) = conv_out_hw, pool_kernel
    return (stride == (1, 1) and pool_stride == pool_kernel and pool_padding == (0, 0)
            and ho % kh == 0 and wo % kw == 0 and kh * kw > 1)


class Conv2dReLUMaxPool2d(Function):
    """y = relu(maxpool(z)), z = conv2d(x, w, b);   dL/dz = maxpool's routing of dL/dy * (y > 0), then Conv2d's

    x (N, C, H, W), w (O, C, kh, kw), b (O,) or absent; y (N, O, Ho/kh, Wo/kw) for a pool kernel
    (kh, kw). One node holding a Conv2dRowBlocked (its saved inputs) and a MaxPool2dTiled (the argmax on
    the dense route); keeps y for the ReLU mask. Saves the argmax in the product's layout on the
    product route (see the module docstring).
    """

    @staticmethod
    def applies(backend, stride, conv_out_hw, pool_kernel, pool_stride, pool_padding):
        return not backend.launch_bound and fusable(stride, conv_out_hw, pool_kernel, pool_stride, pool_padding)

    def __init__(self, padding, pool_kernel, keep_index):
        self.conv = Conv2dRowBlocked((1, 1), padding)
        self.pool = MaxPool2dTiled(pool_kernel, pool_kernel, (0, 0), keep_index)

    def forward(self, x, w, b=None):
        xp, conv, pool = self.xp, self.conv, self.pool
        conv.backend = pool.backend = self.backend
        (n, o), (kh, kw) = (x.shape[0], w.shape[0]), pool.kernel_size
        ph, pw = conv.padding
        ho, wo = x.shape[2] + 2 * ph - w.shape[2] + 1, x.shape[3] + 2 * pw - w.shape[3] + 1
        y = xp.empty((n, o, ho // kh, wo // kw), dtype=x.dtype)
        u, wp = conv.block_rows(o, w.shape[2], ho), x.shape[3] + 2 * pw
        self.in_product = u % kh == 0 and wp % kw == 0
        if self.in_product:
            consume = self._product_pooler(y, u, (_ceil_div(ho, u) - 1) * wp + wo)  # L
        else:
            consume = self._dense_pooler(y, (ho, wo))
        conv._forward_wide(x, w, b, consume=consume)
        xp.maximum(y, 0, out=y)
        self.out = y  # the output's own array: keeping it for the ReLU mask costs no memory
        return y

    def _dense_pooler(self, y, conv_hw):
        """Each chunk of the convolution's output copied into a scratch (m, O, Ho, Wo) and pooled from
        there (MaxPool2d's tiled pool), with the argmax when backward will need it."""
        xp, conv, pool = self.xp, self.conv, self.pool
        n, o, hy, wy = y.shape
        kh, kw = pool.kernel_size
        flat = y.reshape(n * o, hy, wy)
        row = col = None
        if pool.keep_index:
            row = xp.empty((n * o, hy, wy), dtype="uint8")
            col = xp.empty((n * o, hy, kh, wy), dtype="uint8")
            pool.saved = (row, col)
            pool.shapes = ((n, o) + conv_hw, (hy, wy))

        def pool_chunk(start, m, product):
            u, _, hq, wp = conv.blocks
            z = xp.empty((m, o) + conv_hw, dtype=y.dtype)  # in cache; one per chunk (chunks may run on threads)
            conv._copy_blocks(product, z, u, (hq - 1) * wp + conv_hw[1], wp, to_dense=True)
            part = slice(start * o, (start + m) * o)
            tiled_max(xp, z.reshape(m * o, hy, kh, wy, kw), flat[part],
                      None if row is None else row[part], None if col is None else col[part])
        return pool_chunk

    def _product_pooler(self, y, u, length):
        """Each chunk pooled in the product's own layout (O*u, m*L), product[o*u + e, n*L + r*Wp + s] =
        z[n, o, u*r + e, s], on long contiguous runs, before anything is copied. The maximum over kw
        neighbouring columns is one over the views product[:, j::kw] (Wp, Wo and L are multiples of kw:
        neighbours never straddle a row or an image); over kh neighbouring rows, one over the rows
        e = kh*h + i of each block (u is a multiple of kh). The result has the same layout with u/kh
        rows per block and L/kw positions per image: `_copy_blocks` extracts the pooled output. The
        argmax (when backward needs it) stays in these layouts, for `_route_in_product`."""
        xp, conv, pool = self.xp, self.conv, self.pool
        n, o, _, wy = y.shape
        kh, kw = pool.kernel_size
        lk = length // kw  # positions per image after the column stage
        col = row = None
        if pool.keep_index:
            col = xp.empty((o * u, n * lk), dtype="uint8")       # which of the kw columns
            row = xp.empty((o, u // kh, n * lk), dtype="uint8")  # which of the kh rows
            self.saved = (col, row)
            self.geometry = (u, length)

        def pool_chunk(start, m, product):
            wp = conv.blocks[3]
            part = slice(start * lk, (start + m) * lk)
            cols = xp.empty((o * u, m * lk), dtype=y.dtype)
            _running_max(xp, [product[:, j::kw] for j in range(kw)], cols, None if col is None else col[:, part])
            blocks = cols.reshape(o, u // kh, kh, m * lk)
            rows = xp.empty((o, u // kh, m * lk), dtype=y.dtype)
            _running_max(xp, [blocks[:, :, i] for i in range(kh)], rows, None if row is None else row[:, :, part])
            conv._copy_blocks(rows.reshape(o * (u // kh), m * lk), y[start:start + m], u // kh, lk, wp // kw,
                              to_dense=True)
        return pool_chunk

    def _route_in_product(self, g):
        """dL/dz in the product's layout (O*u, N*L) from g = dL/d(pooled) (N, O, Hy, Wy), ReLU mask
        applied: the pooled forward's steps run backwards. g goes into the pooled product layout
        (zeros at junk positions), each value to row kh*h + row_index of its block, then to column
        kw*S + col_index."""
        xp, conv = self.xp, self.conv
        col, row = self.saved
        (u, length), (kh, kw) = self.geometry, self.pool.kernel_size
        n, o = g.shape[:2]
        wp, lk = conv.blocks[3], length // kw
        grows = xp.zeros((o * (u // kh), n * lk), dtype=g.dtype)
        conv._copy_blocks(grows, g, u // kh, lk, wp // kw, to_dense=False)
        grows = grows.reshape(o, u // kh, n * lk)
        gcols = xp.empty((o, u // kh, kh, n * lk), dtype=g.dtype)
        route_by_index(xp, grows, row, [gcols[:, :, i] for i in range(kh)])
        gcols = gcols.reshape(o * u, n * lk)
        gz = xp.empty((o * u, n * length), dtype=g.dtype)
        route_by_index(xp, gcols, col, [gz[:, j::kw] for j in range(kw)])
        return gz

    def _widen_routed(self, gz):
        """`widen` for Conv2d._backward_wide from dL/dz in the product layout (O*u, N*L): images
        [start, start + m) as columns of L positions (a view), or of whole planes (zero past L)."""
        xp = self.xp
        length = self.geometry[1]
        rows = gz.shape[0]

        def widen(start, m, positions):
            part = gz[:, start * length:(start + m) * length]
            if positions == length:
                return part
            g = xp.zeros((rows, m, positions), dtype=gz.dtype)
            g[:, :, :length] = part.reshape(rows, m, length)
            return g.reshape(rows, m * positions)
        return widen

    def backward(self, gy):
        self.conv.needs_grad = self.needs_grad
        g = gy * (self.out > 0)  # the ReLU's backward, on the pooled output
        if not self.in_product:
            return self.conv.backward(self.pool.backward(g))  # dense dL/dz, then the convolution's backward
        return self.conv._backward_wide(None, widen=self._widen_routed(self._route_in_product(g)))

    def release(self):
        super().release()
        self.out = None
        self.conv.release()
        self.pool.release()


class ReLUMaxPool2d(MaxPool2d):
    """y = max(maxpool(z), 0);   dL/dz = maxpool's routing of dL/dy * (y > 0)

    max_pool2d(relu(z)) = relu(max_pool2d(z)) (max and ReLU commute), one node. The ReLU then runs on
    the pooled output (kh*kw times smaller), and its backward mask is applied to dL/dy before routing
    instead of to the full-size routed gradient. Gradients equal the unfused pair's: where the window's
    maximum is > 0 both route dL/dy to the same (first) maximum; where it is <= 0 both give 0.
    Holds the CPU pool (MaxPool2dTiled or MaxPool2dOffsets); keeps y for the ReLU mask.
    """

    @staticmethod
    def applies(backend, x_shape, kernel_size, stride, padding):
        return not backend.launch_bound

    def forward(self, z):
        geometry = dict(x_shape=z.shape, kernel_size=self.kernel_size, stride=self.stride, padding=self.padding)
        pool = MaxPool2dTiled if MaxPool2dTiled.applies(self.backend, **geometry) else MaxPool2dOffsets
        self.pool = pool(self.kernel_size, self.stride, self.padding, self.keep_index)
        self.pool.backend = self.backend
        y = self.pool.forward(z)
        self.xp.maximum(y, 0, out=y)
        self.out = y
        return y

    def backward(self, gy):
        return self.pool.backward(gy * (self.out > 0))

    def release(self):
        super().release()
        self.out = None
        self.pool.release()
