"""CUDA C sources of the elementwise kernels that GPU fast paths compile (Backend.elementwise_kernel).

Each is (name, in_params, out_params, operation) as CuPy's ElementwiseKernel takes them: `operation`
runs once per element i of the outputs. One launch replaces the several array operations of the
reference (minidl/ops/); the fast paths that use them are in minidl/ops/fast/kernels.py, each tested
equal to its reference wherever a GPU is present.
"""

# ReLU's backward: dL/dx = dL/dy where y > 0, else 0.
RELU_GRAD = ("relu_grad", "T y, T g", "T gx", "gx = y > 0 ? g : (T)0")

# MaxPool2d's routing: routed[m, k] = dL/dy[m] if k is the argmax of window m, else 0
# (m: flat window index, k < kh*kw).
MAX_POOL_ROUTE = ("max_pool_route", "raw I index, raw T g, int64 size", "T routed",
                  "ptrdiff_t m = i / size; routed = index[m] == i % size ? g[m] : (T)0;")

# CrossEntropy's backward without class weights or smoothing:
#     dL/dz[i, j] = (p[i, j] - [j == t_i]) · dL/dloss_i   (dL/dloss: one value, or one per row)
SOFTMAX_MINUS_ONEHOT = ("cross_entropy_backward", "T p, raw I t, raw T g, int64 c, int64 g_step", "T gz",
                        "ptrdiff_t row = i / c; gz = (p - (T)(i % c == t[row])) * g[row * g_step];")
