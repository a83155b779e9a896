"""Conv2dRowBlocked: the stride-1 convolution on the CPU, with wide rows, row blocks and a bias row,
built a few images at a time. Same values and gradients as the reference Conv2d (minidl/ops/conv.py).
"""

from minidl.backend.cpu_tuning import CpuTuning
from minidl.ops.conv import Conv2d, pad_spatial

_DEFAULT_TUNING = CpuTuning()  # for backends without a `tuning` (tests run this class on "strict" too)


class Conv2dRowBlocked(Conv2d):
    """Y = W @ cols + b;   dL/dW = dY @ colsᵀ,   dL/db = Σ dY,   dL/dx = col2im(Wᵀ @ dY)   (stride 1, CPU)

    The reference's formulas (Conv2d), computed in another layout for the CPU's caches and BLAS.
    Three ideas make it fast:

    Wide rows. With the image flattened to H*W, the window offset (i, j) of output position (r, s)
    reads element (r*W + s) + (i*W + j): one shift for every position. So im2col, for each offset,
    copies one contiguous run of L = (Ho-1)*W + Wo elements per image and channel (positions
    p = r*W + s, s running over the full width W), and col2im adds one such run back per offset. The
    W - Wo extra columns per row are junk in forward (dropped when the output is extracted) and exact
    zeros in backward (dY is zero there). NumPy pays per inner loop: runs of L instead of Wo make
    im2col ~3x and col2im ~4x faster than (C, kh, kw, N, Ho, Wo) columns.

    Row blocks. With few output channels (LeNet's 6 and 16) the product W @ cols is a few rows tall
    and OpenBLAS runs it at a fraction of its speed, while im2col writes C*kh*kw rows per position.
    So each column computes u output rows (u = 2 or 4, see `block_rows`): input row u*r + d becomes
    row r of channel (c, d), and the weight becomes wb (O*u, C*u, kb, kw), kb = ceil((kh + u - 1) / u),
        wb[o*u + e, c*u + d, i, j] = w[o, c, u*i + d - e, j]   (zero where u*i + d - e is not in [0, kh)),
    so that output row block r of channel (o, e) is output row u*r + e of channel o. The product is u
    times taller with u times fewer columns, and im2col writes kb/kh as much (2/5 for 5x5, u = 4).

    Bias row. The columns get a row of ones and the weight the bias as a last column: the product
    adds the bias (the output is extracted by a plain copy), and backward's dL/dW product gives dL/db.

    The columns are built a few images at a time (tuning.chunk_bytes: they stay in cache) and not
    saved: backward builds them again, chunk by chunk, for dL/dW (it saves the row-blocked input and
    the weight). Chunks run on the CPU backend's threads when tuning.threads > 1.
    """

    name = "Conv2d"  # the op it computes, as graphs, traces and parity show it

    @staticmethod
    def applies(backend, stride):
        """Stride 1 on a device where array calls are cheap (the CPU: not Backend.launch_bound)."""
        return stride == (1, 1) and not backend.launch_bound

    @property
    def tuning(self):
        return getattr(self.backend, "tuning", _DEFAULT_TUNING)

    def forward(self, x, w, b=None):
        return self._forward_wide(x, w, b)

    def backward(self, gy):
        return self._backward_wide(gy)

    def block_rows(self, out_channels, kh, ho):
        """u, the output rows each column computes: the larger of 4 and 2 that keeps the product at
        most 64 rows tall (taller ones gain nothing) and costs at most 1.6x the multiply-adds
        (u*kb <= 1.6*kh: u = 4 for 5x5 kernels, 2 for 3x3), else 1. tuning.block_rows overrides."""
        if self.tuning.block_rows is not None:
            return max(1, min(self.tuning.block_rows, ho))
        for u in (4, 2):
            if u <= ho and u * out_channels <= 64 and u * _ceil_div(kh + u - 1, u) <= 1.6 * kh:
                return u
        return 1

    def _chunks(self, n, k, length, itemsize):
        step = max(1, self.tuning.chunk_bytes // (k * length * itemsize))
        return [(start, min(step, n - start)) for start in range(0, n, step)]

    def _columns(self, xb, start, m, kernel, ones):
        """im2col of images [start, start + m) of xb (N, C, H, W) in the wide layout:
        cols[(c, i, j), n*L + p] = xflat[n, c, p + i*W + j], as (C*kh*kw (+1), m*L): one strided view of
        the input, one copy (split across threads), and a last row of ones when `ones`."""
        xp, backend = self.xp, self.backend
        c, hp, wp = xb.shape[1:]
        kh, kw = kernel
        k = c * kh * kw
        length = (hp - kh) * wp + wp - kw + 1
        it = xb.itemsize
        windows = backend.strided_view(xb[start:start + m], (c, kh, kw, m, length),
                                       (hp * wp * it, wp * it, it, c * hp * wp * it, it))
        cols = xp.empty((k + 1 if ones else k, m * length), dtype=xb.dtype)
        body = cols[:k].reshape(c, kh, kw, m, length)
        backend.parallel(lambda a, e: xp.copyto(body[:, :, :, a:e], windows[:, :, :, a:e]), m, body.size)
        if ones:
            cols[k] = 1
        return cols

    def _forward_wide(self, x, w, b, consume=None):
        """The stride-1 forward (see the class docstring). `consume(start, m, product)`, when given,
        takes each chunk's product (O*u, m*L) (images [start, start + m), in the layout `_copy_blocks`
        reads, geometry in self.blocks) while it is still in cache, and no full output is made
        (Conv2dReLUMaxPool2d pools the chunks there)."""
        xp, backend = self.xp, self.backend
        xpad = xp.ascontiguousarray(pad_spatial(xp, x, self.padding))
        n, c, hp, wp = xpad.shape
        o, _, kh, kw = w.shape
        ho, wo = hp - kh + 1, wp - kw + 1
        u = self.block_rows(o, kh, ho)
        kb, hq = _ceil_div(kh + u - 1, u), _ceil_div(ho, u)  # kernel rows and output rows, in blocks
        xb = rows_to_channels(xp, xpad, u, hq + kb - 1)      # (N, C*u, Hb, Wp)
        k = c * u * kb * kw
        length = (hq - 1) * wp + wo                          # positions p = r*Wp + s, up to the last output
        w2 = xp.empty((o * u, k + (b is not None)), dtype=w.dtype)  # [wb | bias]
        w2[:, :k] = block_weight(xp, w, u, kb).reshape(o * u, k)
        if b is not None:
            w2[:, k] = xp.repeat(b, u)
        y = xp.empty((n, o, ho, wo), dtype=x.dtype) if consume is None else None
        chunks = self._chunks(n, w2.shape[1], length, xb.itemsize)
        self.saved = (xb, w2)
        self.shapes = (x.shape, w.shape, (ho, wo))
        self.blocks = (u, kb, hq, wp)

        def run(first, last):  # chunks [first, last): im2col, product, output (one thread's share)
            for start, m in chunks[first:last]:
                yw = w2 @ self._columns(xb, start, m, (kb, kw), ones=b is not None)  # (O*u, m*L)
                if consume is None:
                    self._copy_blocks(yw, y[start:start + m], u, length, wp, to_dense=True)
                else:
                    consume(start, m, yw)

        backend.parallel_blocks(run, len(chunks), n * k * length)
        return y

    def _copy_blocks(self, product, dense, u, positions, wp, to_dense):
        """Copy between the product's layout and dense outputs, in the direction `to_dense` says:
        product (O*u, m*P)[o*u + e, n*P + r*Wp + s]  <->  dense (m, O, Ho, Wo)[n, o, u*r + e, s]
        (dense C-contiguous). Whole row blocks in one copy, the last partial block in another."""
        xp, backend = self.xp, self.backend
        m, o, ho, wo = dense.shape
        it = dense.itemsize
        blocked = backend.strided_view(product, (m, o, _ceil_div(ho, u), u, wo),
                                       (positions * it, u * m * positions * it, wp * it, m * positions * it, it),
                                       writeable=not to_dense)
        full = ho // u
        if full:
            rows = backend.strided_view(dense, (m, o, full, u, wo),
                                        (o * ho * wo * it, ho * wo * it, u * wo * it, wo * it, it), writeable=to_dense)
            dst, src = (rows, blocked[:, :, :full]) if to_dense else (blocked[:, :, :full], rows)
            backend.parallel(lambda a, e: xp.copyto(dst[a:e], src[a:e]), m, dense.size)
        if ho > full * u:
            rest, tail = dense[:, :, full * u:], blocked[:, :, full, :ho - full * u]
            xp.copyto(*((rest, tail) if to_dense else (tail, rest)))

    def _backward_wide(self, gy, widen=None):
        """dL/dW (and dL/db, through the row of ones) from columns rebuilt chunk by chunk; dL/dx by
        col2im on whole planes of the row-blocked input: dY is widened to every position of the plane
        (zero where no output is), so that the columns wbᵀ @ dY of one offset (i, j) and one channel are
        a single contiguous run over all images of the chunk, added at shift i*Wp + j into a
        channel-major (C*u, N*Hb*Wp) gradient (~50x fewer NumPy inner loops than adding rows of L; the
        price is the product over the whole plane). Each chunk's adds stop where its last image's (zero)
        columns would spill into the next chunk, so chunks run on separate threads without touching
        each other's images.

        `widen(start, m, positions)`, when given, supplies dY of images [start, start + m) already in
        the product's layout (O*u, m*positions) (positions: L or the whole plane), and gy is not used
        (Conv2dReLUMaxPool2d routes the pooled gradient straight into that layout)."""
        xp, backend = self.xp, self.backend
        xb, w2 = self.saved
        x_shape, w_shape, (ho, wo) = self.shapes
        u, kb, hq, wp = self.blocks
        n, cb, hb = xb.shape[:3]
        ow, kw = w2.shape[0], w_shape[3]     # O*u rows of the product
        k = cb * kb * kw
        plane = hb * wp
        length = (hq - 1) * wp + wo
        needs = self.needs_grad
        bias = w2.shape[1] > k               # the product carries the bias: columns get the row of ones
        if widen is None:
            gy = xp.ascontiguousarray(gy)
            widen = lambda start, m, positions: self._widen(gy[start:start + m], u, positions, wp)  # noqa: E731
        dtype = w2.dtype
        gxc = xp.zeros((cb, n * plane), dtype=dtype) if needs[0] else None  # channel-major dL/dxb
        chunks = self._chunks(n, w2.shape[1], plane if needs[0] else length, w2.itemsize)
        partial_gw = {}

        def run(first, last):  # chunks [first, last): one thread's share
            gwt = xp.zeros((w2.shape[1], ow), dtype=dtype) if needs[1] else None  # its part of [dWb | db]ᵀ
            for start, m in chunks[first:last]:
                if needs[1]:  # [dWb | db]ᵀ += cols @ dYᵀ (the faster operand order in OpenBLAS)
                    g = widen(start, m, length)
                    gwt += self._columns(xb, start, m, (kb, kw), ones=bias) @ g.T
                if needs[0]:
                    g = widen(start, m, plane)
                    gcols = (w2[:, :k].T @ g).reshape(cb, kb, kw, m * plane)
                    for i in range(kb):  # one contiguous add per offset (and channel)
                        for j in range(kw):
                            shift = i * wp + j
                            # the last `shift` columns would land on the next chunk's images: they are
                            # zeros (no output reads that far), so they are left out; chunks never overlap
                            at = start * plane + shift
                            gxc[:, at:at + m * plane - shift] += gcols[:, i, j, :m * plane - shift]
            partial_gw[first] = gwt

        backend.parallel_blocks(run, len(chunks), n * k * plane)
        gx = gw = gb = None
        if needs[0]:
            gx = channels_to_rows(xp, gxc[:, :n * plane].reshape(cb, n, hb, wp), u, x_shape, self.padding)
        if needs[1]:
            gwt = sum(partial_gw.values())
            gw = unblock_weight_grad(xp, gwt[:k].T, w_shape, u, kb)
            if bias and needs[2]:
                gb = gwt[k].reshape(-1, u).sum(axis=1)
        if bias and needs[2] and gb is None:  # dL/db without dL/dW: Σ dY (the routed dY: zero at junk positions)
            gb = (gy.sum(axis=(0, 2, 3)) if gy is not None
                  else widen(0, n, length).reshape(ow // u, u * n * length).sum(axis=1))
        return (gx, gw) if len(needs) == 2 else (gx, gw, gb)

    def _widen(self, gy, u, positions, wp):
        """dY (m, O, Ho, Wo), C-contiguous, into a zeroed (O*u, m*P) array in the product's layout (zero at
        junk columns and rows past Ho)."""
        o = gy.shape[1]
        g = self.xp.zeros((o * u, gy.shape[0] * positions), dtype=gy.dtype)
        self._copy_blocks(g, gy, u, positions, wp, to_dense=False)
        return g


def _ceil_div(a, b):
    return -(-a // b)


def _row_pairs(u, kh):
    """The (e, d, first block row, first kernel row, count) of the row-blocked weight: for output
    offset e and input offset d, kernel rows i = u*r + d - e for block rows r = first.. (count of them)."""
    for e in range(u):
        for d in range(u):
            first = max(0, _ceil_div(e - d, u))
            row = u * first + d - e
            if row < kh:
                yield e, d, first, row, len(range(row, kh, u))


def block_weight(xp, w, u, kb):
    """w (O, C, kh, kw) -> wb (O*u, C*u, kb, kw), wb[o*u + e, c*u + d, r, j] = w[o, c, u*r + d - e, j]
    (zero where that kernel row does not exist): the weight of the row-blocked convolution (Conv2d)."""
    if u == 1:
        return w
    o, c, kh, kw = w.shape
    wb = xp.zeros((o, u, c, u, kb, kw), dtype=w.dtype)
    for e, d, first, row, count in _row_pairs(u, kh):
        wb[:, e, :, d, first:first + count] = w[:, :, row::u]
    return wb.reshape(o * u, c * u, kb, kw)


def unblock_weight_grad(xp, gwb, w_shape, u, kb):
    """The transpose of `block_weight`: dL/dw (O, C, kh, kw) from dL/dwb (O*u, C*u*kb*kw), every
    block entry added to the kernel row it came from."""
    if u == 1:
        return gwb.reshape(w_shape)
    o, c, kh, kw = w_shape
    g6 = gwb.reshape(o, u, c, u, kb, kw)
    gw = xp.zeros(w_shape, dtype=gwb.dtype)
    for e, d, first, row, count in _row_pairs(u, kh):
        gw[:, :, row::u] += g6[:, e, :, d, first:first + count]
    return gw


def rows_to_channels(xp, xpad, u, hb):
    """xpad (N, C, Hp, Wp) -> xb (N, C*u, Hb, Wp), xb[n, c*u + d, r] = xpad[n, c, u*r + d] (zero rows
    past Hp): the input of the row-blocked convolution (Conv2d). u == 1: xpad itself."""
    if u == 1:
        return xpad
    n, c, hp, wp = xpad.shape
    xb = xp.empty((n, c, u, hb, wp), dtype=xpad.dtype)
    for d in range(u):
        rows = len(range(d, hp, u))
        xb[:, :, d, :rows] = xpad[:, :, d::u]
        xb[:, :, d, rows:] = 0
    return xb.reshape(n, c * u, hb, wp)


def channels_to_rows(xp, gxb, u, x_shape, padding):
    """The transpose of `rows_to_channels` and of the padding, for gradients: gxb channel-major
    (C*u, N, Hb, Wp) -> dL/dx (N, C, H, W), row u*r + d - ph of channel c from row r of channel (c, d)."""
    n, c, h, wd = x_shape
    ph, pw = padding
    hb, wp = gxb.shape[2:]
    g5 = gxb.reshape(c, u, n, hb, wp)
    gx = xp.empty(x_shape, dtype=gxb.dtype)
    for d in range(u):
        first = max(0, _ceil_div(ph - d, u))  # first block row whose padded row u*r + d is >= ph
        start = u * first + d - ph
        count = len(range(start, h, u))
        if count:
            xp.copyto(gx[:, :, start::u], g5[:, d, :, first:first + count, pw:pw + wd].transpose(1, 0, 2, 3))
    return gx


