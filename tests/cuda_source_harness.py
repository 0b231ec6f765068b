"""Shared by tests/test_rule_codegen.py: the CUDA source of optim.fused.gpu compiled as C++ on the CPU.

The body of each generated kernel, its parameters and optim.fused.gpu.PREAMBLE (the NaN-propagating maximum) go
unchanged into a C++ function template, instantiated for float and double and compiled with -O2 and
-ffp-contract=off (no fused multiply-add, as --fmad=false on the GPU) into a shared library that ctypes loads.
C++ on the CPU and CUDA round +, -, *, / and sqrt the same way (IEEE, to nearest); what the GPU adds is its
compiler, which only a GPU can check.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

from optim.fused import gpu as fused_gpu

COMPILER = os.environ.get("CXX") or shutil.which("g++") or shutil.which("clang++")
FLAGS = ("-O2", "-ffp-contract=off", "-std=c++17", "-shared", "-fPIC")
C_TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}

HEADER = """
#include <cmath>
#include <cstddef>
using std::fabs;
using std::sqrt;
using std::fma;
#define __device__
"""


def _names(params):
    """``"T grad, T beta1"`` -> ``["grad", "beta1"]``."""
    return [param.split()[1] for param in params.split(", ")]


def kernel_function(index, source):
    """C++ for one generated kernel: a template over T and an extern "C" entry point per C type.

    The entry point takes the element count, the numbers (in ``source.scalars`` order), the read-only arrays (the
    gradient) and four pointers for the updated arrays (unused ones may be null).
    """
    inputs = [name for name in _names(source.in_params) if name not in source.scalars]
    outputs = _names(source.out_params)
    numbers = "\n".join(f"    const T {name} = numbers[{k}];" for k, name in enumerate(source.scalars))
    reads = "\n".join(f"        const T {name} = in{k}[i];" for k, name in enumerate(inputs))
    writes = "\n".join(f"        T& {name} = out{k}[i];" for k, name in enumerate(outputs))
    body = "\n".join(f"        {line}" for line in source.body.splitlines())
    entries = "\n".join(
        f'extern "C" void kernel_{index}_{c_type}(std::size_t n, const {c_type}* numbers, const {c_type}* in0, '
        f"{c_type}* out0, {c_type}* out1, {c_type}* out2, {c_type}* out3) {{\n"
        f"    kernel_{index}<{c_type}>(n, numbers, in0, out0, out1, out2, out3);\n}}"
        for c_type in C_TYPES.values()
    )
    return (f"template <typename T>\nstatic void kernel_{index}(std::size_t n, const T* numbers, const T* in0, "
            f"T* out0, T* out1, T* out2, T* out3) {{\n{numbers}\n    for (std::size_t i = 0; i < n; ++i) {{\n"
            f"{reads}\n{writes}\n{body}\n    }}\n}}\n{entries}\n")


def build(choices_list, folder):
    """Compile the kernels of ``choices_list`` into one library in ``folder``; returns it loaded with ctypes."""
    parts = [HEADER, fused_gpu.PREAMBLE]
    parts += [kernel_function(index, fused_gpu.kernel_source(choices)) for index, choices in enumerate(choices_list)]
    source_file = Path(folder) / "kernels.cpp"
    source_file.write_text("\n".join(parts))
    library = Path(folder) / "libkernels.so"
    subprocess.run([COMPILER, *FLAGS, "-o", str(library), str(source_file)], check=True, capture_output=True,
                   text=True)
    return ctypes.CDLL(str(library))


def run(library, index, choices, scalars, grad, updated):
    """Run kernel ``index`` (built from ``choices``) in place on ``updated`` (param, then the state) with
    the numbers ``scalars`` (an optim.step_scalars.Scalars)."""
    source = fused_gpu.kernel_source(choices)
    dtype = grad.dtype
    numbers = np.array([getattr(scalars, name) for name in source.scalars], dtype)
    pointers = [array.ctypes.data_as(ctypes.c_void_p) for array in updated]
    pointers += [None] * (4 - len(pointers))
    entry = getattr(library, f"kernel_{index}_{C_TYPES[dtype]}")
    entry.restype = None
    entry(ctypes.c_size_t(grad.size), numbers.ctypes.data_as(ctypes.c_void_p), grad.ctypes.data_as(ctypes.c_void_p),
          *pointers)
