"""The fused GPU step: one CuPy kernel per flat buffer, with the arithmetic of :mod:`optim.functional`.

Each element is independent, so a step is one :class:`cupy.ElementwiseKernel`
launch over the whole flat buffers of a :class:`~optim.fused.store.FlatStore`
(one per run of parameters that share their scalars; usually one). Every
element is read once and written once: the step moves the minimum number of
bytes. The kernels repeat the lines of
:func:`~optim.functional.adam_update` and :func:`~optim.functional.adamax_update`
operation by operation, in the parameter's precision, with the scalars
computed on the host exactly as those functions compute them
(:mod:`optim.fused.scalars`). They are compiled with
``--fmad=false``, so that ``a * b + c`` is rounded twice, as the separate CuPy
operations of the reference path round it, and ``max`` propagates NaN as
``cupy.maximum`` does. Supported dtypes: float32 and float64.

CuPy is optional: without it this module imports, and has nothing to do
(no parameter can live on a GPU).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad import backend

__all__ = ["KERNELS", "adam_launch", "adamax_launch", "run_pieces", "zeros"]

_OPTIONS = ("--fmad=false",)

_PREAMBLE = """
template <typename T> __device__ T nan_max(T a, T b) {  // numpy.maximum: NaN wins
    return (a != a || a >= b) ? a : b;
}
"""

_SCALARS = "T beta1, T one_minus_beta1, T beta2, T eps, T weight_decay, T decay_factor, T step_size, int32 maximize, " \
    "int32 decay_mode"

# functional._effective_gradient: g = -grad if maximize else grad, then the weight decay.
_GRADIENT = """
T g = maximize ? -grad : grad;
if (decay_mode == 1) { param = param * decay_factor; }  // param *= 1 - lr * weight_decay (decoupled)
if (decay_mode == 2) { g = g + weight_decay * param; }  // g + weight_decay * param (L2)
m = m * beta1;                                          // m *= beta1
m = m + one_minus_beta1 * g;                            // m += (1 - beta1) * g
"""

_MOMENTS = _GRADIENT + """
v = v * beta2;                                          // v *= beta2
v = v + one_minus_beta2 * g * g;                        // v += (1 - beta2) * g * g
"""

_ADAM = _MOMENTS + """
if (epsilon_hat) {
    param = param - alpha_t * m / (sqrt(v) + eps);
} else {                                                // "algorithm1"
    param = param - step_size * m / (sqrt(v) / sqrt_bias2 + eps);
}
"""

_AMSGRAD = _MOMENTS + """
if (amsgrad_mode == 2) {                                // "max_corrected_v"
    v_max = nan_max(v_max, v / bias2);
    param = param - lr * (m / bias1) / (sqrt(v_max) + eps);
} else if (amsgrad_mode == 3) {                         // "no_bias_correction"
    v_max = nan_max(v_max, v);
    param = param - lr * m / (sqrt(v_max) + eps);
} else {                                                // "max_raw_v": v_max takes the place of v
    v_max = nan_max(v_max, v);
    if (epsilon_hat) {
        param = param - alpha_t * m / (sqrt(v_max) + eps);
    } else {
        param = param - step_size * m / (sqrt(v_max) / sqrt_bias2 + eps);
    }
}
"""

_ADAMAX = _GRADIENT + """
u = u * beta2;                                          // u *= beta2
T abs_g = fabs(g);
if (inside_max) {
    abs_g = abs_g + eps;                                // abs_g += eps
    u = nan_max(u, abs_g);                              // u = max(beta2 u, |g| + eps)
    param = param - step_size * m / u;
} else {
    u = nan_max(u, abs_g);                              // u = max(beta2 u, |g|)
    param = param - step_size * m / (u + eps);
}
"""

_AMSGRAD_CODES = {None: 0, "max_raw_v": 1, "max_corrected_v": 2, "no_bias_correction": 3}
_kernels: dict[str, Any] = {}


def _kernel(name: str) -> Any:
    """The compiled kernel ``name`` ("adam", "amsgrad" or "adamax"), built on first use."""
    kernel = _kernels.get(name)
    if kernel is not None:
        return kernel
    cupy = backend._cupy
    if cupy is None:
        raise RuntimeError("fused=True on a GPU needs CuPy; install the 'gpu' extra")
    adam_scalars = f"T grad, {_SCALARS}, T one_minus_beta2, T lr, T bias1, T bias2, T sqrt_bias2, T alpha_t, " \
        "int32 amsgrad_mode, int32 epsilon_hat"
    if name == "adam":
        kernel = cupy.ElementwiseKernel(adam_scalars, "T param, T m, T v", _ADAM, "optim_fused_adam",
                                        preamble=_PREAMBLE, options=_OPTIONS, no_return=True)
    elif name == "amsgrad":
        kernel = cupy.ElementwiseKernel(adam_scalars, "T param, T m, T v, T v_max", _AMSGRAD, "optim_fused_amsgrad",
                                        preamble=_PREAMBLE, options=_OPTIONS, no_return=True)
    else:
        kernel = cupy.ElementwiseKernel(
            f"T grad, {_SCALARS}, int32 inside_max", "T param, T m, T u", _ADAMAX, "optim_fused_adamax",
            preamble=_PREAMBLE, options=_OPTIONS, no_return=True,
        )
    _kernels[name] = kernel
    return kernel


def _scalar(value: np.ndarray) -> Any:
    """A 0-d array of :mod:`optim.fused.scalars` as a NumPy scalar of its dtype, for the kernel's ``T``."""
    return value[()]


def _common(s: Any) -> tuple[Any, ...]:
    decay_mode = 0 if not s.decays else (1 if s.decoupled else 2)
    values = (s.beta1, s.one_minus_beta1, s.beta2, s.eps, s.weight_decay, s.decay_factor, s.step_size)
    return (*(_scalar(value) for value in values), np.int32(s.maximize), np.int32(decay_mode))


def adam_launch(param: Any, grad: Any, m: Any, v: Any, v_max: Any | None, s: Any) -> None:
    """One Adam/AMSGrad kernel launch over the flat slices (``s``: :class:`~optim.fused.scalars.AdamScalars`)."""
    adam_only = (s.one_minus_beta2, s.lr, s.bias1, s.bias2, s.sqrt_bias2, s.alpha_t)
    scalars = (grad, *_common(s), *(_scalar(value) for value in adam_only),
               np.int32(_AMSGRAD_CODES[s.amsgrad_mode]), np.int32(s.epsilon_mode == "epsilon_hat"))
    if s.amsgrad_mode is None:  # plain Adam (an AMSGrad store with amsgrad_mode "ignored" leaves v_max alone)
        _kernel("adam")(*scalars, param, m, v)
    else:
        _kernel("amsgrad")(*scalars, param, m, v, v_max)


def adamax_launch(param: Any, grad: Any, m: Any, u: Any, s: Any) -> None:
    """One AdaMax kernel launch over the flat slices (``s``: :class:`~optim.fused.scalars.AdamaxScalars`)."""
    _kernel("adamax")(grad, *_common(s), np.int32(s.adamax_epsilon == "inside_max"), param, m, u)


KERNELS = {"adam": adam_launch, "adamax": adamax_launch}


def zeros(device: Any, size: int, dtype: Any) -> Any:
    """A flat zero buffer on the GPU ``device``; refuses the dtypes the kernels do not take (at binding)."""
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise TypeError(f"fused=True on a GPU: supports float32 and float64 parameters, got dtype {np.dtype(dtype)}")
    cupy = backend._cupy
    with cupy.cuda.Device(device.index):
        return cupy.zeros(size, dtype)


def run_pieces(pieces: Sequence[Any]) -> None:
    """Launch the kernel of every piece (:class:`~optim.fused.cpu.Piece`) on its slice of the flat buffers."""
    for piece in pieces:
        if piece.stop <= piece.start:
            continue
        views = [None if array is None else array[piece.start:piece.stop] for array in piece.arrays]
        with backend._cupy.cuda.Device(views[0].device.id):
            piece.kernel(*views, piece.scalars)
