"""Cross-entropy on the transposed logits zᵀ (C, N), on the CPU. Same values and gradients as the
reference CrossEntropy (minidl/ops/loss.py), label smoothing and class weights included.
"""

from minidl.ops.loss import CrossEntropy


class CrossEntropyTransposed(CrossEntropy):
    """loss_i = -log softmax(z_i)[t_i];   dL/dz_i = (softmax(z_i) - onehot(t_i)) * dL/dloss_i   (on zᵀ, CPU)

    The reference's formulas (CrossEntropy, with label smoothing and class weights), computed on the
    transposed logits. Saves p as its transpose (C, N), and w[t].

    The work runs on zᵀ (C, N): NumPy reduces a short last axis one row at a time (~40 ns a row: 37 µs
    for the row maxima of a (512, 10) batch), but reduces the first axis as C contiguous passes (2 µs).
    """

    name = "CrossEntropy"  # the op it computes, as graphs, traces and parity show it

    @staticmethod
    def applies(backend, weighted, smoothing):
        return not backend.launch_bound

    def forward(self, z):
        xp = self.xp
        n, c = z.shape
        t, w, eps = self.target, self.weight, self.smoothing
        s = xp.ascontiguousarray(z.T)            # (C, N), then s = z - max_c z, the shifted logits
        s -= s.max(axis=0)
        target_s = s[t, xp.arange(n)]            # s[i, t_i] (a copy: s becomes p below)
        if eps:
            weighted_s = s.sum(axis=0) if w is None else w @ s       # Σ_c w[c] s[i, c]
        p = xp.exp(s, out=s)
        total = p.sum(axis=0)
        log_total = xp.log(total)
        loss = log_total - target_s              # log Σ_c exp s[i, c] - s[i, t_i] = -log p[i, t_i]
        p /= total
        w_t = None if w is None else w[t]
        if w_t is not None:
            loss *= w_t
        if eps:  # -Σ_c w[c] log p[i, c] = Σ_c w[c] · log_total_i - Σ_c w[c] s[i, c]
            smooth = (c if w is None else w.sum()) * log_total - weighted_s
            loss = loss * (1 - eps) + smooth * (eps / c)
        self.saved = (p, w_t)
        return self.reduce(loss, w_t)  # CrossEntropy.reduce: the reference's reduction

    def backward(self, gy):
        p, w_t = self.saved                      # p: (C, N)
        c, n = p.shape
        eps, w, t = self.smoothing, self.weight, self.target
        if self.reduction == "mean":
            gy = gy / self.denominator
        g = gy if self.reduction == "none" else self.xp.broadcast_to(gy, (n,))
        g_target = g if w_t is None else g * w_t           # dL/dloss_i * w[t_i]
        coef = g_target * (1 - eps) if eps else g_target
        if eps:
            weight_total = c if w is None else w.sum()  # Σ_c w[c]
            coef = coef + g * (weight_total * (eps / c))
        gz = p * coef                                      # (C, N): row c of p times dL/dloss_i
        gz[t, self.xp.arange(n)] -= g_target * (1 - eps) if eps else g_target
        if eps:
            gz -= g * ((eps / c) if w is None else (w * (eps / c)).reshape(c, 1))
        return gz.T                                        # (N, C), a view
