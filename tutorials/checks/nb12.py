"""Checks for the exercises of ``12-gpu-with-cupy.ipynb``.

Each check runs the student's device-agnostic function on NumPy arrays and, when
CuPy and a GPU are available, on CuPy arrays too, and compares with the library
(:func:`minigrad.softmax`, :func:`optim.functional.adam_update`) on the same device.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import minigrad as mg
from checks import compare, report
from minigrad import backend
from optim import functional


def _devices() -> list[str]:
    return ["cpu", "cuda"] if mg.cuda_available() else ["cpu"]


def _run(student: Callable[..., Any], *arrays: Any) -> tuple[Any, str]:
    """The student's result, or the hint for the error it raised."""
    try:
        return student(*arrays), ""
    except TypeError as error:
        return None, (f"it raised TypeError: {error}. Take the array module from the input, "
                      "xp = backend.get_array_module(x), and use xp.exp, xp.sqrt, ... instead of np.")


def check_softmax(softmax: Callable[..., Any]) -> None:
    """Compare the student's softmax over the last axis with :func:`minigrad.softmax`, large inputs included."""
    name = "A softmax for any device"
    rng = np.random.default_rng(1210)
    for device in _devices():
        for scale in (1.0, 1000.0):
            x = backend.to_device(rng.standard_normal((4, 7)) * scale, device)
            expected = mg.softmax(mg.tensor(x), axis=-1).numpy()
            got, error = _run(softmax, x.copy())
            if error:
                report(name, False, f"on {device}, {error}")
                return
            if got is not None and backend.device_of(got) != backend.as_device(device):
                report(name, False, f"the input lives on {device} but the result on {backend.device_of(got)}: "
                       "compute with the input's array module so that the result stays where the input is.")
                return
            problem = compare(None if got is None else backend.to_numpy(got), expected, rtol=1e-12, atol=1e-300)
            if problem:
                hint = ("subtract the largest value of each row before exp: exp(1000) overflows to inf."
                        if scale > 1 else "exp(x) / its sum over the last axis (keepdims=True).")
                report(name, False, f"on {device}, inputs of size {scale:g}: {problem}. {hint}")
                return
    report(name, True)


def check_adam_step_xp(adam_step_xp: Callable[..., Any]) -> None:
    """Compare the student's in-place Adam step with :func:`optim.functional.adam_update` on each device."""
    name = "An Adam step for any device"
    rng = np.random.default_rng(1211)
    for device in _devices():
        for t in (1, 2, 50):
            arrays = [rng.standard_normal(6), rng.standard_normal(6), rng.standard_normal(6) * 0.1,
                      rng.random(6) * 0.01]
            mine = [backend.to_device(a.copy(), device) for a in arrays]
            expected = [backend.to_device(a.copy(), device) for a in arrays]
            functional.adam_update(expected[0], expected[1], expected[2], expected[3], None, step=t, lr=0.01,
                                   beta1=0.9, beta2=0.999, eps=1e-8)
            _, error = _run(adam_step_xp, *mine, t, 0.01, 0.9, 0.999, 1e-8)
            if error:
                report(name, False, f"on {device}, {error}")
                return
            for label, index in (("param", 0), ("m", 2), ("v", 3)):
                problem = compare(backend.to_numpy(mine[index]), backend.to_numpy(expected[index]), rtol=1e-10)
                if problem:
                    report(name, False, f"on {device}, t={t}, {label}: {problem}. Update param, m and v in place "
                           "(m[...] = ..., or m *= beta1 then m += ...), with Algorithm 1.")
                    return
    report(name, True)
