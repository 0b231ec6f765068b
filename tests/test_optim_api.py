"""The optim API contract: validation, defaults, param groups, state_dict, config, Keras-style calls."""

from __future__ import annotations

import copy
import json
import math
import pickle

import numpy as np
import optim_reference as ref
import pytest

import minigrad as mg
import optim

NAN, INF = float("nan"), float("inf")


def param(values, device, dtype=np.float64):
    return mg.tensor(np.asarray(values, dtype=dtype), requires_grad=True, device=device)


def grads_for(seed, shapes, steps, none_at=None, nonzero_first=False):
    """Per-step lists of gradients (one per shape); none_at = {param index: set of steps without a gradient}."""
    rng = np.random.default_rng(seed)
    seqs = [ref.make_gradient_sequence(rng, steps, s, nonzero_first=nonzero_first) for s in shapes]
    for i, ks in (none_at or {}).items():
        for k in ks:
            seqs[i][k] = None
    return [[seq[k] for seq in seqs] for k in range(steps)]


def feed(opt, params, step_grads, device):
    for p, g in zip(params, step_grads, strict=True):
        p.grad = None if g is None else mg.tensor(np.asarray(g, dtype=p.dtype), device=device)
    return opt.step()


def values(params):
    return [p.numpy().copy() for p in params]


def to_numpy(array):
    return mg.backend.to_numpy(array)


CLASSES = {
    "Adam": optim.Adam,
    "Adamax": optim.Adamax,
    "AMSGrad": optim.AMSGrad,
}


# --------------------------------------------------------------------------- validation
COMMON_BAD = [
    ("lr", -0.5, "-0.5"),
    ("lr", NAN, "nan"),
    ("lr", INF, "inf"),
    ("lr", -INF, "-inf"),
    ("betas", (1.0, 0.999), "1.0"),
    ("betas", (-0.1, 0.999), "-0.1"),
    ("betas", (0.9, 1.0), "1.0"),
    ("betas", (0.9, 1.5), "1.5"),
    ("betas", (0.9, NAN), "nan"),
    ("eps", -0.5, "-0.5"),
    ("eps", NAN, "nan"),
    ("eps", INF, "inf"),
    ("weight_decay", -0.5, "-0.5"),
    ("weight_decay", NAN, "nan"),
    ("weight_decay", INF, "inf"),
    ("convention", "no_such_convention", "no_such_convention"),
    ("step_counting", "per_step", "per_step"),
]
BAD = [(name, arg, bad, text) for name in CLASSES for (arg, bad, text) in COMMON_BAD] + [
    ("Adam", "epsilon_mode", "eps_hat", "eps_hat"),
    ("Adam", "amsgrad_mode", "max_v", "max_v"),
    ("AMSGrad", "epsilon_mode", "tf", "tf"),
    ("AMSGrad", "amsgrad_mode", "optax", "optax"),
    ("Adamax", "adamax_epsilon", "outside", "outside"),
]


@pytest.mark.parametrize("name,arg,bad,text", BAD)
def test_constructor_rejects_bad_values_naming_argument_and_value(device, name, arg, bad, text):
    """Contract, Validation: ValueError for lr negative/nan/inf, a beta outside [0, 1), eps or
    weight_decay negative or not finite, an unknown convention or choice value; the message names
    the argument and the value; nothing is touched (the parameter and its gradient are unchanged)."""
    p = param([1.0, 2.0], device)
    p.grad = mg.tensor(np.array([0.5, -0.5]), device=device)
    with pytest.raises(ValueError) as info:
        CLASSES[name]([p], **{arg: bad})
    message = str(info.value)
    assert arg.rstrip("s") in message, message  # "beta" also matches "beta1"/"beta_2" spellings
    assert text in message.lower(), message
    np.testing.assert_array_equal(p.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(p.grad.numpy(), [0.5, -0.5])


@pytest.mark.parametrize("name", list(CLASSES))
@pytest.mark.parametrize("arg,bad,text", [("lr", -0.5, "-0.5"), ("betas", (0.9, 1.0), "1.0"), ("eps", -0.5, "-0.5")])
def test_param_group_values_are_validated_too(device, name, arg, bad, text):
    """A hyperparameter given in a param group dict is validated like the constructor argument."""
    p, q = param([1.0], device), param([2.0], device)
    with pytest.raises(ValueError) as info:
        CLASSES[name]([{"params": [p]}, {"params": [q], arg: bad}])
    assert arg.rstrip("s") in str(info.value) and text in str(info.value)


def test_sgd_validation_and_update(device):
    """SGD(params, lr=0.01): p -= lr*g; a negative lr is rejected like the others."""
    p = param([1.0, -2.0], device)
    with pytest.raises(ValueError, match="lr"):
        optim.SGD([p], lr=-1.0)
    opt = optim.SGD([p])
    p.grad = mg.tensor(np.array([3.0, -4.0]), device=device)
    opt.step()
    np.testing.assert_array_equal(p.numpy(), [1.0 - 0.01 * 3.0, -2.0 + 0.01 * 4.0])


@pytest.mark.parametrize("name", list(CLASSES))
def test_params_validation(device, name):
    """Empty params (explicit empty list) and a parameter listed twice (also across groups): ValueError;
    a parameter that is not a minigrad Tensor: TypeError.  The messages name the parameters."""
    cls = CLASSES[name]
    p, q = param([1.0], device), param([2.0], device)
    with pytest.raises(ValueError) as info:
        cls([])
    assert "param" in str(info.value).lower()
    with pytest.raises(ValueError) as info:
        cls([p, q, p])
    assert "param" in str(info.value).lower()
    with pytest.raises(ValueError) as info:
        cls([{"params": [p]}, {"params": [q, p]}])
    assert "param" in str(info.value).lower()
    with pytest.raises(TypeError) as info:
        cls([p, np.zeros(3)])
    assert "param" in str(info.value).lower() and "array" in str(info.value).lower()
    with pytest.raises(TypeError):
        cls([{"params": [q, [1.0, 2.0]]}])


@pytest.mark.parametrize("name", list(CLASSES))
def test_boundary_values_are_accepted(device, name):
    """The valid ranges are closed at 0: lr = 0, betas = (0, 0), eps = 0 and weight_decay = 0 are
    accepted (Theorem 1 of Reddi et al. needs b1 = 0), and lr = 0 leaves the parameter unchanged."""
    p = param([1.0, -1.0], device)
    opt = CLASSES[name]([p], lr=0.0, betas=(0.0, 0.0), eps=0.0, weight_decay=0.0)
    p.grad = mg.tensor(np.array([2.0, -3.0]), device=device)
    opt.step()
    np.testing.assert_array_equal(p.numpy(), [1.0, -1.0])


def test_amsgrad_class_has_no_amsgrad_keyword(device):
    """AMSGrad takes Adam's keywords except amsgrad (it is always on)."""
    with pytest.raises(TypeError):
        optim.AMSGrad([param([1.0], device)], amsgrad=False)


# --------------------------------------------------------------------------- defaults
@pytest.mark.parametrize("convention", ["paper", "pytorch"])
@pytest.mark.parametrize("name", list(CLASSES))
def test_none_means_the_convention_default(device, name, convention):
    """Contract, conventions: "paper" Adam lr 1e-3, betas (0.9, 0.999), eps 1e-8, algorithm1,
    no_bias_correction, global; Adamax lr 2e-3, denominator; "pytorch": max_raw_v, per_parameter,
    inside_max.  Recorded in param_groups; explicit None gives the same; convention="paper" is the default."""
    kind = "adamax" if name == "Adamax" else "adam"
    want = ref.CONVENTION_DEFAULTS[convention][kind]
    cls = CLASSES[name]
    p = param([1.0], device)
    group = cls([p], convention=convention).param_groups[0]
    for key, value in want.items():
        got = tuple(group[key]) if key == "betas" else group[key]
        assert got == value, key
    explicit = {key: None for key in want}
    group2 = cls([param([1.0], device)], convention=convention, **explicit).param_groups[0]
    for key in want:
        assert group2[key] == group[key], key
    if convention == "paper":
        group3 = cls([param([1.0], device)]).param_groups[0]
        for key in want:
            assert group3[key] == group[key], key
    for key in ("weight_decay", "maximize", "decoupled_weight_decay"):
        assert key in group
    if kind == "adam":
        assert group["amsgrad"] is (name == "AMSGrad")


@pytest.mark.parametrize("convention", ["paper", "pytorch"])
@pytest.mark.parametrize("name", list(CLASSES))
def test_default_hyperparameters_drive_the_update(device, name, convention):
    """Without any hyperparameter the trajectory equals the transcription run with the convention's
    documented defaults (catches a wrong default used internally, e.g. eps=1e-7)."""
    kind = "adamax" if name == "Adamax" else "adam"
    d = ref.resolve(kind, convention)
    shapes = [(3,), (2, 2)]
    steps = grads_for(1, shapes, 25, none_at={1: {0, 10}})
    params = [param(np.linspace(-1, 1, math.prod(s)).reshape(s), device) for s in shapes]
    x0s = values(params)
    opt = CLASSES[name](params, convention=convention)
    for g in steps:
        feed(opt, params, g, device)
    for i, p in enumerate(params):
        seq = [g[i] for g in steps]
        if kind == "adamax":
            want = ref.run_elementwise(ref.adamax_reference, seq, x0s[i], lr=d["lr"], betas=d["betas"], eps=d["eps"],
                                       adamax_epsilon=d["adamax_epsilon"], step_counting=d["step_counting"])
        else:
            want = ref.run_elementwise(ref.adam_reference, seq, x0s[i], lr=d["lr"], betas=d["betas"], eps=d["eps"],
                                       amsgrad=name == "AMSGrad", amsgrad_mode=d["amsgrad_mode"],
                                       epsilon_mode=d["epsilon_mode"], step_counting=d["step_counting"])
        np.testing.assert_allclose(p.numpy(), want[-1], rtol=1e-12, atol=1e-13)


# --------------------------------------------------------------------------- AMSGrad == Adam(amsgrad=True)
@pytest.mark.parametrize("convention", ["paper", "pytorch"])
@pytest.mark.parametrize("amsgrad_mode", [None, "max_raw_v", "max_corrected_v", "no_bias_correction"])
def test_amsgrad_equals_adam_with_amsgrad_true(device, convention, amsgrad_mode):
    """AMSGrad(...) is Adam(amsgrad=True): bitwise equal trajectories and state."""
    shapes = [(4,), (2, 3)]
    steps = grads_for(2, shapes, 30, none_at={0: {3}})
    kw = {"lr": 0.02, "betas": (0.8, 0.9), "eps": 1e-6, "weight_decay": 0.01, "convention": convention,
          "amsgrad_mode": amsgrad_mode}
    a = [param(np.ones(s), device) for s in shapes]
    b = [param(np.ones(s), device) for s in shapes]
    opt_a, opt_b = optim.AMSGrad(a, **kw), optim.Adam(b, amsgrad=True, **kw)
    for g in steps:
        feed(opt_a, a, g, device)
        feed(opt_b, b, g, device)
        for x, y in zip(a, b, strict=True):
            assert np.array_equal(x.numpy(), y.numpy())
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(to_numpy(opt_a.state[x]["v_max"]), to_numpy(opt_b.state[y]["v_max"]))


# --------------------------------------------------------------------------- state, zero_grad, iterations
@pytest.mark.parametrize("name", list(CLASSES))
def test_state_layout_device_and_dtype(device, name):
    """opt.state[p]: "step" (int) and "m", "v" (+ "v_max" with amsgrad) for Adam, "m", "u" for Adamax;
    the arrays have the parameter's shape and dtype and live on its device."""
    p = param(np.ones((2, 3), dtype=np.float32), device, dtype=np.float32)
    opt = CLASSES[name]([p], lr=0.1)
    p.grad = mg.tensor(np.full((2, 3), 0.5, dtype=np.float32), device=device)
    assert opt.step() is None
    state = opt.state[p]
    keys = {"Adam": {"m", "v"}, "AMSGrad": {"m", "v", "v_max"}, "Adamax": {"m", "u"}}[name]
    assert keys <= set(state)
    assert isinstance(state["step"], int) and state["step"] == 1
    for key in keys:
        array = state[key]
        assert array.shape == (2, 3) and array.dtype == np.float32, key
        assert mg.backend.device_of(array) == p.device, key


@pytest.mark.parametrize("name", list(CLASSES))
def test_params_may_be_any_iterable(device, name):
    """Contract: params is an iterable of Tensors (a generator works like a list, consumed once)."""
    a = [param([1.0], device), param([2.0], device)]
    b = [param([1.0], device), param([2.0], device)]
    opt_a = CLASSES[name](p for p in a)
    opt_b = CLASSES[name](list(b))
    assert len(opt_a.param_groups[0]["params"]) == 2
    for g in ([0.5, -0.5], [1.0, 2.0]):
        feed(opt_a, a, [np.array([x]) for x in g], device)
        feed(opt_b, b, [np.array([x]) for x in g], device)
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.numpy(), y.numpy())


@pytest.mark.parametrize("name", list(CLASSES))
def test_zero_grad_sets_grads_to_none(device, name):
    """Contract: opt.zero_grad() sets p.grad = None for every parameter of every group."""
    a, b, c = param([1.0], device), param([2.0], device), param([3.0], device)
    opt = CLASSES[name]([{"params": [a, b]}, {"params": [c], "lr": 0.5}])
    for p in (a, b, c):
        p.grad = mg.tensor(np.array([1.0]), device=device)
    opt.zero_grad()
    assert a.grad is None and b.grad is None and c.grad is None


@pytest.mark.parametrize("name", list(CLASSES))
def test_iterations_count_updates(device, name):
    """opt.iterations counts step() and apply_gradients() calls (0 before the first)."""
    p = param([1.0, 2.0], device)
    opt = CLASSES[name]([p], lr=0.1)
    assert opt.iterations == 0
    for k in range(3):
        p.grad = mg.tensor(np.array([0.1, -0.2]), device=device)
        opt.step()
        assert opt.iterations == k + 1
    xp = mg.backend.as_device(device).xp
    opt.apply_gradients([(xp.asarray([0.3, 0.3]), p)])
    opt.apply_gradients([(mg.tensor(np.array([0.3, 0.3]), device=device), p)])
    assert opt.iterations == 5


def test_step_skips_parameters_without_gradient(device):
    """A parameter whose grad is None is left exactly as it is (value and state)."""
    a, b = param([1.0, 2.0], device), param([3.0], device)
    opt = optim.Adam([a, b], lr=0.1, convention="pytorch")
    a.grad = mg.tensor(np.array([0.5, 0.5]), device=device)
    b.grad = None
    opt.step()
    np.testing.assert_array_equal(b.numpy(), [3.0])
    assert b not in opt.state or opt.state[b].get("step", 0) == 0


# --------------------------------------------------------------------------- apply_gradients / minimize
@pytest.mark.parametrize("name", list(CLASSES))
def test_apply_gradients_with_arrays_and_tensors_equals_step(device, name):
    """apply_gradients([(grad, param)]) accepts backend arrays and Tensors, binds parameters lazily when
    the optimizer was built with params=None (Keras style), and updates exactly like step()."""
    xp = mg.backend.as_device(device).xp
    steps = grads_for(3, [(3,), (2, 2)], 12)
    ref_params = [param(np.ones(3), device), param(np.ones((2, 2)), device)]
    arr_params = [param(np.ones(3), device), param(np.ones((2, 2)), device)]
    ten_params = [param(np.ones(3), device), param(np.ones((2, 2)), device)]
    cls = CLASSES[name]
    opt_ref = cls(ref_params, lr=0.05)
    opt_arr = cls(None, lr=0.05)
    opt_ten = cls(ten_params, lr=0.05)
    for g in steps:
        feed(opt_ref, ref_params, g, device)
        opt_arr.apply_gradients([(xp.asarray(gi), p) for gi, p in zip(g, arr_params, strict=True)])
        opt_ten.apply_gradients(zip([mg.tensor(gi, device=device) for gi in g], ten_params, strict=True))
        for x, y, z in zip(ref_params, arr_params, ten_params, strict=True):
            assert np.array_equal(x.numpy(), y.numpy())
            assert np.array_equal(x.numpy(), z.numpy())
    assert opt_arr.iterations == opt_ten.iterations == len(steps)


@pytest.mark.parametrize("bind", ["constructor", "lazy"])
def test_minimize_returns_the_loss_and_steps(device, bind):
    """minimize(loss_fn, var_list): zeroes the grads of var_list (a stale gradient is discarded),
    evaluates loss_fn, back-propagates and applies; returns the loss Tensor (value before the step)."""
    a = param([1.0, -2.0], device)
    target = mg.tensor(np.array([0.5, 0.5]), device=device)
    opt = optim.Adam([a] if bind == "constructor" else None, lr=0.1)
    a.grad = mg.tensor(np.array([100.0, 100.0]), device=device)  # stale, must not be used
    loss = opt.minimize(lambda: ((a - target) * (a - target)).sum(), [a])
    assert isinstance(loss, mg.Tensor)
    assert float(loss.item()) == pytest.approx(0.25 + 6.25)
    g = 2 * (np.array([1.0, -2.0]) - 0.5)
    np.testing.assert_allclose(a.numpy(), np.array([1.0, -2.0]) - 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-15)
    assert opt.iterations == 1


def test_minimize_updates_only_var_list(device):
    """minimize(loss_fn, var_list) applies the gradients of var_list only (Keras semantics), even if
    other parameters of the optimizer take part in the loss."""
    a, b = param([1.0], device), param([2.0], device)
    opt = optim.Adam([a, b], lr=0.1)
    opt.minimize(lambda: (a * b).sum(), [a])
    assert float(a.item()) == pytest.approx(0.9, rel=1e-7)
    assert float(b.item()) == 2.0


# --------------------------------------------------------------------------- param groups and schedules
@pytest.mark.parametrize("name", list(CLASSES))
def test_param_groups_with_different_lr(device, name):
    """Each group uses its own hyperparameters (missing ones come from the constructor): the grouped
    optimizer equals one optimizer per group, bitwise."""
    cls = CLASSES[name]
    steps = grads_for(4, [(3,), (2,), (2, 2)], 15)
    grouped = [param(np.zeros(3), device), param(np.zeros(2), device), param(np.zeros((2, 2)), device)]
    single = [param(np.zeros(3), device), param(np.zeros(2), device), param(np.zeros((2, 2)), device)]
    opt = cls([{"params": grouped[:2], "lr": 0.1}, {"params": grouped[2:], "betas": (0.5, 0.6)}],
              lr=0.01, eps=1e-4)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.01
    assert opt.param_groups[1]["eps"] == 1e-4
    opt_a = cls(single[:2], lr=0.1, eps=1e-4)
    opt_b = cls(single[2:], lr=0.01, betas=(0.5, 0.6), eps=1e-4)
    for g in steps:
        feed(opt, grouped, g, device)
        feed(opt_a, single[:2], g[:2], device)
        feed(opt_b, single[2:], g[2:], device)
    for x, y in zip(grouped, single, strict=True):
        assert np.array_equal(x.numpy(), y.numpy())
    assert not np.array_equal(grouped[0].numpy(), param(np.zeros(3), device).numpy())


@pytest.mark.parametrize("name", list(CLASSES))
def test_lr_callable_gets_the_number_of_updates_already_applied(device, name):
    """lr(k) is called with k = opt.iterations: 0 at the first update, 1 at the second, ...; the value
    returned is the one used (lr(1) = 0 leaves the parameter where it is)."""
    calls = []

    def schedule(k):
        calls.append(k)
        return [0.1, 0.0, 0.1][k]

    p = param([1.0], device)
    opt = CLASSES[name]([p], lr=schedule)
    xs = []
    for k in range(3):
        p.grad = mg.tensor(np.array([1.0]), device=device)
        before = len(calls)
        opt.step()
        assert calls[before:] and set(calls[before:]) == {k}
        xs.append(float(p.item()))
    assert xs[0] < 1.0
    assert xs[1] == xs[0]
    assert xs[2] < xs[1]


# --------------------------------------------------------------------------- state_dict
RESUME_CASES = [
    ("Adam", {}), ("AMSGrad", {}), ("Adamax", {}),
    ("Adam", {"epsilon_mode": "epsilon_hat", "weight_decay": 0.05, "decoupled_weight_decay": True}),
    ("AMSGrad", {"amsgrad_mode": "max_corrected_v", "maximize": True}),
    ("Adamax", {"weight_decay": 0.05}),
]


def schedule_for_resume(k):
    return 0.05 / (1 + 0.1 * k)


def arrays_to_lists(obj):
    """json.dumps default= hook that converts backend arrays only (anything else stays an error)."""
    if mg.backend.is_array(obj):
        return to_numpy(obj).tolist()
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


@pytest.mark.parametrize("name", list(CLASSES))
def test_state_dict_is_json_able_except_arrays(device, name):
    """Contract: state_dict() is JSON-able except numpy arrays -- also when lr is a schedule callable
    (the callable itself belongs to the constructor, not to the saved state)."""
    for lr in (0.05, schedule_for_resume):
        p = param([1.0, 2.0], device)
        opt = CLASSES[name]([p], lr=lr)
        p.grad = mg.tensor(np.array([0.5, -1.0]), device=device)
        opt.step()
        json.dumps(opt.state_dict(), default=arrays_to_lists)


@pytest.mark.parametrize("convention", ["paper", "pytorch"])
@pytest.mark.parametrize("name,extra", RESUME_CASES)
@pytest.mark.parametrize("lr", [0.03, schedule_for_resume], ids=["const-lr", "schedule"])
def test_resume_from_state_dict_is_bitwise_identical(device, convention, name, extra, lr):
    """k steps, state_dict(), a fresh optimizer on fresh parameter copies, load_state_dict(), the
    remaining steps: bitwise equal to the uninterrupted run (iterations, per-parameter steps and the
    schedule position are restored).  The state dict also survives deepcopy and pickle."""
    cls = CLASSES[name]
    shapes = [(3,), (2, 2), (1,)]
    steps = grads_for(5, shapes, 20, none_at={1: {2, 9}, 2: {0}})
    kw = {"lr": lr, "betas": (0.8, 0.95), "convention": convention, **extra}
    full = [param(np.ones(s), device) for s in shapes]
    opt_full = cls(full, **kw)
    history = []
    for g in steps:
        feed(opt_full, full, g, device)
        history.append(values(full))

    first = [param(np.ones(s), device) for s in shapes]
    opt_first = cls(first, **kw)
    for g in steps[:8]:
        feed(opt_first, first, g, device)
    sd = pickle.loads(pickle.dumps(copy.deepcopy(opt_first.state_dict())))
    assert sd["iterations"] == 8
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1, 2]]
    if not callable(lr):
        json.dumps(sd, default=arrays_to_lists)  # JSON-able except the arrays

    resumed = [mg.tensor(p.data, requires_grad=True) for p in first]  # fresh copies of the parameters
    opt_resumed = cls(resumed, **kw)
    opt_resumed.load_state_dict(sd)
    assert opt_resumed.iterations == 8
    for k, g in enumerate(steps[8:], start=8):
        feed(opt_resumed, resumed, g, device)
        for i, p in enumerate(resumed):
            assert np.array_equal(p.numpy(), history[k][i]), f"parameter {i} after step {k + 1}"
    assert opt_resumed.iterations == opt_full.iterations == 20


def test_load_state_dict_copies_the_arrays(device):
    """After load_state_dict the optimizer owns its state: scribbling on the loaded dict afterwards
    (or continuing the optimizer it came from) does not change the resumed run."""
    steps = grads_for(6, [(4,)], 12)
    a = [param(np.ones(4), device)]
    opt_a = optim.Adam(a, lr=0.05, amsgrad=True)
    for g in steps[:6]:
        feed(opt_a, a, g, device)
    sd = opt_a.state_dict()
    b = [mg.tensor(a[0].data, requires_grad=True)]
    opt_b = optim.Adam(b, lr=0.05, amsgrad=True)
    opt_b.load_state_dict(sd)
    twin = [mg.tensor(a[0].data, requires_grad=True)]
    opt_twin = optim.Adam(twin, lr=0.05, amsgrad=True)
    opt_twin.load_state_dict(copy.deepcopy(sd))
    for key in ("m", "v", "v_max"):
        sd["state"][0][key][...] = 123.0
    for g in steps[6:]:
        feed(opt_a, a, g, device)  # the source optimizer keeps going
        feed(opt_b, b, g, device)
        feed(opt_twin, twin, g, device)
        assert np.array_equal(b[0].numpy(), twin[0].numpy())


def _trained(device, name="Adam", groups=1, steps=5, **kw):
    shapes = [(3,), (2, 2)]
    params = [param(np.ones(s), device) for s in shapes]
    spec = [{"params": params}] if groups == 1 else [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.2}]
    opt = CLASSES[name](spec, lr=0.05, **kw)
    for g in grads_for(7, shapes, steps):
        feed(opt, params, g, device)
    return params, opt


def _bad_dicts(device):
    """(description, mutate(sd)) pairs, each making the state dict unloadable into _trained()'s optimizer."""

    def wrong_group_count(sd):
        _, other = _trained(device, groups=2)
        sd.clear()
        sd.update(copy.deepcopy(other.state_dict()))

    def wrong_param_count(sd):
        sd["param_groups"][0]["params"] = [0]
        del sd["state"][1]

    def wrong_shape(sd):
        m = sd["state"][1]["m"]
        sd["state"][1]["m"] = mg.backend.get_array_module(m).zeros((4,))

    def wrong_dtype(sd):
        sd["state"][1]["v"] = sd["state"][1]["v"].astype(np.float32)

    def missing_state_key(sd):
        del sd["state"][1]["v"]

    def missing_top_level_key(sd):
        del sd["param_groups"]

    return [wrong_group_count, wrong_param_count, wrong_shape, wrong_dtype, missing_state_key, missing_top_level_key]


@pytest.mark.parametrize("case", range(6), ids=[f.__name__ for f in _bad_dicts("cpu")])
def test_load_state_dict_refuses_mismatch_and_changes_nothing(device, case):
    """load_state_dict validates everything first (group count, parameter counts, shapes, dtypes, keys):
    ValueError, and the optimizer (state, hyperparameters, iterations) and the parameters are unchanged,
    even though the same dict also carries valid changes for parameter 0 and a new lr."""
    params, opt = _trained(device)
    twin_params, twin = _trained(device)
    sd = copy.deepcopy(opt.state_dict())
    if "state" in sd and 0 in sd["state"]:
        m0 = sd["state"][0]["m"]
        sd["state"][0]["m"] = mg.backend.get_array_module(m0).full_like(m0, 7.0)  # valid, must not be applied
    for group in sd.get("param_groups", []):
        group["lr"] = 9.0
    _bad_dicts(device)[case](sd)
    snapshot = {key: to_numpy(value).copy() for key, value in opt.state[params[0]].items() if key != "step"}
    with pytest.raises(ValueError):
        opt.load_state_dict(sd)
    assert opt.iterations == 5
    assert opt.param_groups[0]["lr"] == 0.05
    for key, value in snapshot.items():
        assert np.array_equal(to_numpy(opt.state[params[0]][key]), value), key
    for g in grads_for(8, [(3,), (2, 2)], 5):
        feed(opt, params, g, device)
        feed(twin, twin_params, g, device)
    for x, y in zip(params, twin_params, strict=True):
        assert np.array_equal(x.numpy(), y.numpy())


# --------------------------------------------------------------------------- config
CONFIG_CASES = [
    ("Adam", {"lr": 0.02, "betas": (0.8, 0.95), "eps": 1e-5, "weight_decay": 0.01, "decoupled_weight_decay": True,
              "maximize": True, "convention": "pytorch", "epsilon_mode": "epsilon_hat", "step_counting": "global"}),
    ("Adam", {"lr": 0.02, "amsgrad": True, "amsgrad_mode": "max_corrected_v", "convention": "paper",
              "step_counting": "per_parameter"}),
    ("AMSGrad", {"lr": 0.03, "eps": 0.0, "convention": "pytorch", "amsgrad_mode": "no_bias_correction"}),
    ("Adamax", {"lr": 0.01, "betas": (0.7, 0.9), "eps": 0.1, "weight_decay": 0.02, "adamax_epsilon": "inside_max",
                "convention": "paper"}),
]


@pytest.mark.parametrize("name,kw", CONFIG_CASES)
def test_get_config_is_json_and_from_config_round_trips(device, name, kw):
    """get_config() is JSON-serialisable and records the convention and the choices;
    cls.from_config(json round trip) gives an optimizer with bitwise identical trajectories,
    both with params given and with params=None (bound by apply_gradients)."""
    cls = CLASSES[name]
    shapes = [(3,), (2, 2)]
    steps = grads_for(9, shapes, 15, none_at={0: {4}}, nonzero_first=True)  # eps=0 case: no 0/0
    original = [param(np.ones(s), device) for s in shapes]
    opt = cls(original, **kw)
    cfg = json.loads(json.dumps(opt.get_config()))
    assert cfg["convention"] == kw["convention"]
    for key in ("epsilon_mode", "amsgrad_mode", "adamax_epsilon", "step_counting"):
        if key in kw:
            assert cfg[key] == kw[key], key
    copy_params = [param(np.ones(s), device) for s in shapes]
    clone = cls.from_config(cfg, params=copy_params)
    lazy_params = [param(np.ones(s), device) for s in shapes]
    lazy = cls.from_config(cfg)
    xp = mg.backend.as_device(device).xp
    for g in steps:
        feed(opt, original, g, device)
        feed(clone, copy_params, g, device)
        lazy.apply_gradients([(xp.asarray(gi), p) for gi, p in zip(g, lazy_params, strict=True) if gi is not None])
    for x, y, z in zip(original, copy_params, lazy_params, strict=True):
        assert np.array_equal(x.numpy(), y.numpy())
        assert np.array_equal(x.numpy(), z.numpy())
