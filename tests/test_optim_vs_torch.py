"""convention="pytorch" against torch.optim (PyTorch 2.13.0 CPU, single-tensor path, foreach=False).

Many steps (50), several shapes, several parameters in one optimizer, one parameter that has
no gradient at some steps (torch skips it and its per-parameter step does not advance), and
every option: amsgrad, L2 / decoupled weight decay (== torch AdamW), maximize, eps and betas
variations, LambdaLR schedules.  float64 must agree to rtol 1e-12, float32 to rtol ~1e-6.
"""

from __future__ import annotations

import itertools

import numpy as np
import optim_reference as ref
import pytest

import minigrad as mg
import optim

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

SHAPES = [(1,), (5,), (3, 4), (2, 3, 4)]
STEPS = 50
NONE_AT = {1: {5, 6, 30}, 3: {0}}  # parameter index -> steps at which its gradient is None
TOL = {np.float64: {"rtol": 1e-12, "atol": 1e-13}, np.float32: {"rtol": 2e-6, "atol": 1e-6}}
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}


def problem(seed):
    rng = np.random.default_rng(seed)
    x0s = [rng.standard_normal(shape) for shape in SHAPES]
    grads = [ref.make_gradient_sequence(rng, STEPS, shape) for shape in SHAPES]
    for i, steps in NONE_AT.items():
        for k in steps:
            grads[i][k] = None
    return x0s, grads


def compare_with_torch(device, dtype, make_ours, make_torch, seed=0, scheduler=None, groups=None):
    """Run both optimizers side by side and compare every parameter after every step.

    ``groups``: list of index lists to split the parameters into param groups (passed to both factories)."""
    x0s, grads = problem(seed)
    ours = [mg.tensor(np.asarray(x0, dtype=dtype), requires_grad=True, device=device) for x0 in x0s]
    theirs = [torch.tensor(np.asarray(x0, dtype=dtype), dtype=TORCH_DTYPE[dtype], requires_grad=True) for x0 in x0s]
    if groups is None:
        opt, topt = make_ours(ours), make_torch(theirs)
    else:
        opt = make_ours([[ours[i] for i in g] for g in groups])
        topt = make_torch([[theirs[i] for i in g] for g in groups])
    sched = scheduler(topt) if scheduler is not None else None
    for k in range(STEPS):
        for p, tp, seq in zip(ours, theirs, grads, strict=True):
            if seq[k] is None:
                p.grad = None
                tp.grad = None
            else:
                g = np.asarray(seq[k], dtype=dtype)
                p.grad = mg.tensor(g, device=device)
                tp.grad = torch.tensor(g, dtype=TORCH_DTYPE[dtype])
        opt.step()
        topt.step()
        if sched is not None:
            sched.step()
        for i, (p, tp) in enumerate(zip(ours, theirs, strict=True)):
            np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), **TOL[dtype],
                                       err_msg=f"parameter {i} after step {k + 1}")
    return ours, theirs, opt, topt


def compare_states(opt, topt, ours, theirs, dtype, names):
    """Our state arrays against torch's (names: our key -> torch key) and the per-parameter step."""
    for p, tp in zip(ours, theirs, strict=True):
        tstate = topt.state[tp]
        assert int(opt.state[p]["step"]) == int(tstate["step"].item())
        for key, tkey in names.items():
            expected = tstate[tkey].numpy()
            np.testing.assert_allclose(mg.backend.to_numpy(opt.state[p][key]), expected, rtol=TOL[dtype]["rtol"],
                                       atol=TOL[dtype]["rtol"] * float(np.max(np.abs(expected))), err_msg=key)


ADAM_OPTIONS = list(itertools.product(
    [False, True],                               # amsgrad
    [(0.0, False), (0.1, False), (0.1, True)],   # weight_decay, decoupled_weight_decay
    [False, True],                               # maximize
))


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("amsgrad,wd,maximize", [(a, w, m) for a, w, m in ADAM_OPTIONS])
@pytest.mark.parametrize("eps,betas", [(1e-8, (0.9, 0.999)), (1e-3, (0.5, 0.9))])
def test_adam_matches_torch(device, dtype, amsgrad, wd, maximize, eps, betas):
    """torch.optim.Adam(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay) (2.13.0):
    same parameters after each of 50 steps, and the same state (exp_avg, exp_avg_sq, max_exp_avg_sq, step)."""
    weight_decay, decoupled = wd
    kw = {"lr": 0.03, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
          "maximize": maximize, "decoupled_weight_decay": decoupled}
    ours, theirs, opt, topt = compare_with_torch(
        device, dtype, lambda ps: optim.Adam(ps, convention="pytorch", **kw),
        lambda ps: torch.optim.Adam(ps, foreach=False, **kw))
    names = {"m": "exp_avg", "v": "exp_avg_sq"}
    if amsgrad:
        names["v_max"] = "max_exp_avg_sq"
    compare_states(opt, topt, ours, theirs, dtype, names)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_decoupled_weight_decay_matches_torch_adamw(device, dtype, amsgrad):
    """torch.optim.AdamW(lr, weight_decay) == our Adam(decoupled_weight_decay=True): x *= 1 - lr*wd, then Adam."""
    compare_with_torch(
        device, dtype,
        lambda ps: optim.Adam(ps, lr=0.02, weight_decay=0.05, decoupled_weight_decay=True, amsgrad=amsgrad,
                              convention="pytorch"),
        lambda ps: torch.optim.AdamW(ps, lr=0.02, weight_decay=0.05, amsgrad=amsgrad, foreach=False))


def test_amsgrad_class_matches_torch_adam_amsgrad(device):
    """optim.AMSGrad(convention="pytorch") == torch.optim.Adam(amsgrad=True)."""
    compare_with_torch(
        device, np.float64, lambda ps: optim.AMSGrad(ps, lr=0.02, betas=(0.8, 0.99), convention="pytorch"),
        lambda ps: torch.optim.Adam(ps, lr=0.02, betas=(0.8, 0.99), amsgrad=True, foreach=False))


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
@pytest.mark.parametrize("maximize", [False, True])
@pytest.mark.parametrize("eps,betas", [(1e-8, (0.9, 0.999)), (0.1, (0.7, 0.95))])
def test_adamax_matches_torch(device, dtype, weight_decay, maximize, eps, betas):
    """torch.optim.Adamax(lr, betas, eps, weight_decay, maximize) (2.13.0): u = max(b2*u, |g|+eps),
    L2 weight decay; same parameters after each step and the same state (exp_avg, exp_inf, step)."""
    kw = {"lr": 0.02, "betas": betas, "eps": eps, "weight_decay": weight_decay, "maximize": maximize}
    ours, theirs, opt, topt = compare_with_torch(
        device, dtype, lambda ps: optim.Adamax(ps, convention="pytorch", **kw),
        lambda ps: torch.optim.Adamax(ps, foreach=False, **kw))
    compare_states(opt, topt, ours, theirs, dtype, {"m": "exp_avg", "u": "exp_inf"})


@pytest.mark.parametrize("optimizer", ["adam", "adamw", "adamax"])
def test_lr_schedule_matches_torch_lambda_lr(device, optimizer):
    """Our lr(k) (k = updates already applied, 0 at the first) == torch LambdaLR(base_lr, lam) stepped
    once after every optimizer.step(): step k uses base_lr*lam(k).  Decoupled decay uses that lr too."""
    base = 0.05

    def lam(k):
        return 0.9**k

    def schedule(k):
        return base * lam(k)

    if optimizer == "adamax":
        make_ours = lambda ps: optim.Adamax(ps, lr=schedule, weight_decay=0.01, convention="pytorch")  # noqa: E731
        make_torch = lambda ps: torch.optim.Adamax(ps, lr=base, weight_decay=0.01, foreach=False)  # noqa: E731
    else:
        decoupled = optimizer == "adamw"
        make_ours = lambda ps: optim.Adam(ps, lr=schedule, weight_decay=0.1, decoupled_weight_decay=decoupled,  # noqa: E731
                                          amsgrad=True, convention="pytorch")
        make_torch = lambda ps: torch.optim.Adam(ps, lr=base, weight_decay=0.1, decoupled_weight_decay=decoupled,  # noqa: E731
                                                 amsgrad=True, foreach=False)
    compare_with_torch(device, np.float64, make_ours, make_torch,
                       scheduler=lambda topt: torch.optim.lr_scheduler.LambdaLR(topt, lam))


def test_param_groups_match_torch(device):
    """Param groups with their own lr, betas, amsgrad and weight decay behave as in torch.optim."""
    def ours(groups):
        return optim.Adam([
            {"params": groups[0], "lr": 0.05},
            {"params": groups[1], "betas": (0.5, 0.9), "amsgrad": True, "weight_decay": 0.2},
        ], lr=0.01, convention="pytorch")

    def theirs(groups):
        return torch.optim.Adam([
            {"params": groups[0], "lr": 0.05},
            {"params": groups[1], "betas": (0.5, 0.9), "amsgrad": True, "weight_decay": 0.2},
        ], lr=0.01, foreach=False)

    compare_with_torch(device, np.float64, ours, theirs, groups=[[0, 2], [1, 3]])


def test_torch_comparison_can_fail(device):
    """Control: the paper convention (global step, Reddi AMSGrad) is NOT torch's, and the comparison
    above notices it (so a wrong step counter or amsgrad variant in the pytorch convention would fail)."""
    with pytest.raises(AssertionError):
        compare_with_torch(device, np.float64, lambda ps: optim.Adam(ps, lr=0.03, convention="paper"),
                           lambda ps: torch.optim.Adam(ps, lr=0.03, foreach=False))
