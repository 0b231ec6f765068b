"""SGD(convention="pytorch") against torch.optim.SGD (PyTorch 2.13.0 CPU, single-tensor path), bit for bit.

Hypothesis draws the hyperparameters (momentum, dampening, Nesterov, weight decay, maximize, learning rate), the
dtype (float32, float64), the parameters, and gradients of any finite value (signed zeros and subnormals
included) for a few steps, with a parameter that has no gradient at some steps (torch skips it, and its
momentum buffer starts at its own first update). After every step the parameters and the momentum buffers must
have torch's bits, on the reference path and on the fused path.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from kernel_helpers import assert_same_bits

import minigrad as mg
import optim

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

SHAPES = [(3, 4), (5,), (1,)]
TORCH_DTYPE = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


@st.composite
def configurations(draw):
    """The keywords torch.optim.SGD and SGD(convention="pytorch") share, as torch accepts them."""
    momentum = draw(st.one_of(st.just(0.0), st.floats(0.0, 1.0)))
    nesterov = momentum > 0 and draw(st.booleans())
    dampening = 0.0 if nesterov else draw(st.one_of(st.just(0.0), st.floats(0.0, 1.0)))
    return {"lr": draw(st.floats(0.0, 1.0)), "momentum": momentum, "dampening": dampening, "nesterov": nesterov,
            "weight_decay": draw(st.one_of(st.just(0.0), st.floats(0.0, 1.0))), "maximize": draw(st.booleans())}


@st.composite
def problems(draw):
    """A dtype, initial parameters and the gradients of each step (None: no gradient at that step)."""
    dtype = np.dtype(draw(st.sampled_from([np.float32, np.float64])))
    values = st.floats(-1e3, 1e3, width=dtype.itemsize * 8)
    params = [draw(hnp.arrays(dtype, shape, elements=values)) for shape in SHAPES]
    steps = draw(st.integers(1, 5))
    grads = [[draw(st.one_of(st.none(), hnp.arrays(dtype, shape, elements=values))) if index == 2
              else draw(hnp.arrays(dtype, shape, elements=values)) for index, shape in enumerate(SHAPES)]
             for _ in range(steps)]
    return dtype, params, grads


def run_both(config, problem, fused):
    """Both optimizers on the same problem; after each step, ours and torch's parameters and buffers."""
    dtype, params, grads = problem
    ours = [mg.tensor(p.copy(), requires_grad=True) for p in params]
    theirs = [torch.tensor(p.copy(), dtype=TORCH_DTYPE[dtype], requires_grad=True) for p in params]
    opt = optim.SGD(ours, convention="pytorch", fused=fused, **config)
    topt = torch.optim.SGD(theirs, **config)
    for step, step_grads in enumerate(grads, start=1):
        for p, tp, g in zip(ours, theirs, step_grads):
            p.grad = None if g is None else mg.tensor(g.copy())
            tp.grad = None if g is None else torch.tensor(g.copy())
        opt.step()
        topt.step()
        yield step, ours, theirs, opt, topt


def assert_like_torch(config, problem, fused):
    for step, ours, theirs, opt, topt in run_both(config, problem, fused):
        for index, (p, tp) in enumerate(zip(ours, theirs)):
            what = f"parameter {index} after step {step} of {config}, fused={fused}"
            assert_same_bits(p.numpy(), tp.detach().numpy(), what)
            buffer = topt.state[tp].get("momentum_buffer") if tp in topt.state else None
            if buffer is None:
                assert "momentum_buffer" not in opt.state.get(p, {}), what
            else:
                assert_same_bits(np.asarray(opt.state[p]["momentum_buffer"]), buffer.numpy(), f"buffer of {what}")


@settings(max_examples=150, deadline=None)
@given(config=configurations(), problem=problems())
def test_reference_path_has_torchs_bits(config, problem):
    """Every step: the parameters and the momentum buffers of torch.optim.SGD, bit for bit."""
    assert_like_torch(config, problem, fused=False)


@settings(max_examples=60, deadline=None)
@given(config=configurations(), problem=problems())
def test_fused_path_has_torchs_bits(config, problem):
    """fused=True too (the kernels of optim.fused, run from the same rule)."""
    assert_like_torch(config, problem, fused=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_plain_step_rounds_once_as_torch_does(dtype):
    """torch's param.add_(grad, alpha=-lr) rounds param - lr * grad once (a fused multiply-add): on a thousand
    random coordinates rounding the product first gives other bits somewhere, and SGD(convention="pytorch")
    gives torch's bits everywhere."""
    rng = np.random.default_rng(13)
    param, grad, lr = rng.standard_normal(1000).astype(dtype), rng.standard_normal(1000).astype(dtype), 0.1
    rounded_twice = param - dtype(lr) * grad
    p, tp = mg.tensor(param.copy(), requires_grad=True), torch.tensor(param.copy(), requires_grad=True)
    p.grad, tp.grad = mg.tensor(grad.copy()), torch.tensor(grad.copy())
    optim.SGD([p], lr=lr, convention="pytorch").step()
    torch.optim.SGD([tp], lr=lr).step()
    assert_same_bits(p.numpy(), tp.detach().numpy(), "one step")
    assert (rounded_twice != p.numpy()).any()
