"""The fused path (``fused=True``) against the reference path, which is the specification.

Both paths run the same gradient sequences; the parameters, the state arrays and
the step counts must agree: float64 to a relative 1e-12, float32 to 2 units in
the last place (on the CPU they are in fact identical, which one test states).
The combinations: every algorithm x convention, every formula choice, every
optimizer-wide option, chunk boundaries, odd sizes, many tiny parameters and
one large one, missing gradients, resuming from a state dict, the gradient
views that ``zero_grad`` hands out, rebinding, and the errors for what the
fused path does not do.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import minigrad as mg
import optim
from minigrad import backend
from minigrad.sparse import RowSparseGrad
from optim import fused_cpu, schedules

CLASSES = [optim.Adam, optim.AMSGrad, optim.Adamax]
DTYPES = [np.float32, np.float64]
SHAPES = [(3, 4), (257,), (1,), (5, 1, 3)]


def host(array):
    return backend.to_numpy(array).copy()


def make_params(shapes, dtype, device, seed=0):
    rng = np.random.default_rng(seed)
    return [mg.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True, device=device) for shape in shapes]


def assert_close(actual, expected, dtype):
    """float64: relative 1e-12; float32 (and float16): at most 2 ulps apart."""
    actual, expected = host(actual), host(expected)
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    if np.dtype(dtype) == np.float64:
        np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=0)
    else:
        np.testing.assert_array_max_ulp(actual, expected, maxulp=2)


def run(cls, kwargs, shapes, dtype, device, *, fused, steps=4, seed=0, missing=(), views=False, names=None,
        configure=None):
    """``steps`` calls with seeded gradients; ``missing`` holds the (call, index) pairs without a gradient.

    ``views=True`` writes the gradients into the views handed out by ``zero_grad`` (the fused path then reads
    them in place); otherwise each call assigns new gradient Tensors, which the fused path copies.
    """
    params = make_params(shapes, dtype, device, seed)
    entries = params if names is None else list(zip(names, params))
    optimizer = cls(entries, fused=fused, **kwargs)
    if configure is not None:
        configure(optimizer, params)
    rng = np.random.default_rng(seed + 1)
    for call in range(steps):
        if views:
            optimizer.zero_grad()
        for index, param in enumerate(params):
            grad = backend.to_device(rng.standard_normal(param.shape).astype(dtype), device)
            if (call, index) in missing:
                param.grad = None
            elif views and fused:
                param.grad.data[...] = grad
            else:
                param.grad = mg.Tensor(grad)
        optimizer.step()
    return params, optimizer


def assert_same_run(reference, fused, dtype):
    """Same parameters, same state (step counts and arrays), same counters."""
    (ref_params, ref_opt), (fused_params, fused_opt) = reference, fused
    for ref, got in zip(ref_params, fused_params):
        assert_close(got.data, ref.data, dtype)
    for ref, got in zip(ref_params, fused_params):
        ref_state, got_state = ref_opt.state.get(ref), fused_opt.state.get(got)
        assert (ref_state is None) == (got_state is None)
        if ref_state is None:
            continue
        assert set(got_state) == set(ref_state)
        for key, value in ref_state.items():
            if key == "step":
                assert got_state[key] == value
            else:
                assert_close(got_state[key], value, dtype)
    assert (fused_opt.iterations, fused_opt.calls) == (ref_opt.iterations, ref_opt.calls)


def check(cls, kwargs, dtype, device, shapes=SHAPES, **options):
    reference = run(cls, kwargs, shapes, dtype, device, fused=False, **options)
    fused = run(cls, kwargs, shapes, dtype, device, fused=True, **options)
    assert_same_run(reference, fused, dtype)
    return fused


# --------------------------------------------------------------------------- algorithms x conventions x choices
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("convention", sorted(optim.CONVENTIONS))
@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("extra", [{}, {"weight_decay": 0.1, "maximize": True}], ids=["plain", "decay-maximize"])
def test_every_convention(device, cls, convention, dtype, extra):
    """Each algorithm under each convention, with and without weight decay and maximize."""
    check(cls, {"lr": 0.01, "convention": convention, **extra}, dtype, device)


ADAM_CHOICES = [
    {"epsilon_mode": epsilon_mode, "amsgrad": amsgrad, "amsgrad_mode": amsgrad_mode}
    for epsilon_mode in ("algorithm1", "epsilon_hat")
    for amsgrad, amsgrad_mode in [(False, "max_raw_v"), (True, "max_raw_v"), (True, "max_corrected_v"),
                                  (True, "no_bias_correction"), (True, "ignored")]
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("decoupled", [False, True])
@pytest.mark.parametrize("choice", ADAM_CHOICES, ids=lambda c: "-".join(str(value) for value in c.values()))
def test_every_adam_choice(device, choice, decoupled, dtype):
    """epsilon_mode x amsgrad_mode, with L2 or decoupled weight decay."""
    kwargs = {"lr": 0.02, "weight_decay": 0.05, "decoupled_weight_decay": decoupled, **choice}
    check(optim.Adam, kwargs, dtype, device)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("decoupled", [False, True])
@pytest.mark.parametrize("adamax_epsilon", ["denominator", "inside_max"])
def test_every_adamax_choice(device, adamax_epsilon, decoupled, dtype):
    """adamax_epsilon, with L2 or decoupled weight decay, and maximize."""
    kwargs = {"lr": 0.02, "weight_decay": 0.05, "decoupled_weight_decay": decoupled, "maximize": True,
              "adamax_epsilon": adamax_epsilon}
    check(optim.Adamax, kwargs, dtype, device)


@pytest.mark.parametrize("power_dtype", [None, "float32", "param"])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("cls", CLASSES)
def test_power_dtype(cls, dtype, power_dtype):
    """The bias corrections in double, single or the parameter's precision (float16 included, on the CPU;
    with an epsilon that float16 can hold)."""
    check(cls, {"lr": 0.01, "eps": 1e-3, "power_dtype": power_dtype}, dtype, "cpu", steps=6)


@pytest.mark.parametrize("cls", CLASSES)
def test_cpu_results_are_identical_bit_for_bit(cls):
    """On the CPU the fused kernels repeat the reference operations in order: the bits are the same."""
    for dtype in DTYPES:
        kwargs = {"lr": 0.01, "convention": "pytorch", "weight_decay": 0.01}
        (ref, _), (got, _) = (run(cls, kwargs, SHAPES, dtype, "cpu", fused=f) for f in (False, True))
        for a, b in zip(ref, got):
            np.testing.assert_array_equal(b.data, a.data)


# --------------------------------------------------------------------------- options
OPTIONS = {
    "clipnorm": {"clipnorm": 0.5},
    "clipvalue": {"clipvalue": 0.3},
    "global_clipnorm": {"global_clipnorm": 0.7},
    "loss_scale_factor": {"loss_scale_factor": 128.0},
    "accumulation": {"gradient_accumulation_steps": 2},
    "ema": {"use_ema": True, "ema_momentum": 0.9, "ema_overwrite_frequency": 3},
    "legacy_decay": {"decay": 0.1},
    "schedule": {"lr": schedules.ExponentialDecay(0.05, decay_steps=2, decay_rate=0.5)},
    "callable_lr": {"lr": lambda k: 0.01 / (1 + k)},
    "sparse_dense": {"lazy": False},
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("option", sorted(OPTIONS))
@pytest.mark.parametrize("cls", CLASSES)
def test_every_option(device, cls, option, dtype):
    """The pipeline around the rule (clipping, scaling, accumulation, EMA, schedules) is the reference's."""
    kwargs = {"lr": 0.01, **OPTIONS[option]}
    fused = check(cls, kwargs, dtype, device, steps=6)
    reference = run(cls, kwargs, SHAPES, dtype, device, fused=False, steps=6)
    for ref, got in zip(reference[0], fused[0]):
        if ref in reference[1].averages:
            assert_close(fused[1].averages[got], reference[1].averages[ref], dtype)


@pytest.mark.parametrize("cls", CLASSES)
def test_pattern_lrs_and_weight_decay_exclusion(device, cls):
    """Per-parameter learning rates (pattern_lrs) and exclusions from weight decay, by object and by name."""
    names = ["encoder.weight", "encoder.bias", "head.weight", "head.bias"]
    kwargs = {"lr": 0.01, "weight_decay": 0.1, "pattern_lrs": [{"patterns": ["^head"], "lr": 0.05}]}

    def configure(optimizer, params):
        optimizer.exclude_from_weight_decay(var_list=[params[0]], var_names=["bias$"])

    fused = check(cls, kwargs, np.float64, device, names=names, configure=configure)
    assert len(fused[1]._fused_engine.stores) == 1


@pytest.mark.parametrize("cls", CLASSES)
def test_groups_and_mixed_dtypes(device, cls):
    """Several parameter groups with their own hyperparameters, and float32 next to float64."""
    results = []
    for fused in (False, True):
        a = make_params([(4, 3), (7,)], np.float32, device, seed=1)
        b = make_params([(6,), (2, 2)], np.float64, device, seed=2)
        optimizer = cls([{"params": a, "lr": 0.03}, {"params": b, "weight_decay": 0.2}], lr=0.01, fused=fused)
        rng = np.random.default_rng(3)
        for _ in range(4):
            for p in a + b:
                p.grad = mg.Tensor(backend.to_device(rng.standard_normal(p.shape).astype(p.dtype), device))
            optimizer.step()
        results.append((a + b, optimizer))
    for ref, got in zip(results[0][0], results[1][0]):
        assert_close(got.data, ref.data, ref.dtype)
    assert len(results[1][1]._fused_engine.stores) == 2


@pytest.mark.parametrize("convention", ["pytorch", "paper"])
@pytest.mark.parametrize("cls", CLASSES)
def test_missing_gradients(device, cls, convention):
    """Parameters without a gradient are left alone; per-parameter step counts then differ, and each run of
    equal counts gets its own bias corrections."""
    missing = {(0, 1), (1, 1), (2, 0), (2, 3), (3, 2)}
    check(cls, {"lr": 0.01, "convention": convention}, np.float64, device, steps=5, missing=missing)


# --------------------------------------------------------------------------- sizes and chunks
@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 1024 elements and 4 threads, so that small tests cross many chunk and thread boundaries."""
    monkeypatch.setattr(fused_cpu, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(fused_cpu, "num_threads", lambda: 4)


SIZES = {
    "around-one-chunk": [(1023,), (1024,), (1025,)],
    "odd": [(3, 7), (11,), (2049,), (5, 3, 67)],
    "many-tiny": [(1 + i % 7,) for i in range(300)],
    "one-large": [(50_001,)],
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sizes", sorted(SIZES))
@pytest.mark.parametrize("cls", CLASSES)
def test_chunk_boundaries(small_chunks, cls, sizes, dtype):
    """Sizes around the chunk length, odd sizes, hundreds of tiny parameters, one parameter of ~50 chunks."""
    check(cls, {"lr": 0.01, "convention": "pytorch"}, dtype, "cpu", shapes=SIZES[sizes], steps=3)


def test_default_chunks_and_threads():
    """The real chunk length, with a parameter of a few chunks and gradients in the views."""
    length = fused_cpu.CHUNK_BYTES // 4
    check(optim.Adam, {"lr": 0.01}, np.float32, "cpu", shapes=[(2 * length + 3,), (length - 1,)], steps=2,
          views=True)


# --------------------------------------------------------------------------- views, binding, resume
def test_zero_grad_hands_out_views_of_the_flat_buffers(device):
    """param.data, p.grad.data and the state arrays are views of the flat buffers; the Tensors stay the same."""
    params = make_params(SHAPES, np.float32, device)
    before = [host(p.data) for p in params]
    optimizer = optim.Adam(params, lr=0.01, fused=True)
    optimizer.zero_grad()
    store = optimizer._fused_engine.stores[0]
    for param, values in zip(params, before):
        assert np.array_equal(host(param.data), values)
        assert param.data.base is not None and param.grad.data.base is not None
        assert not host(param.grad.data).any()
        param.grad.data[...] = 1.0
    assert host(store.grad).sum() == sum(p.size for p in params)
    optimizer.step()
    for param in params:
        assert optimizer.state[param]["m"].base is not None
        assert optimizer._fused_engine.slots[id(param)].grad_view is param.grad.data  # read in place, no copy
    assert host(store.param)[: params[0].size].tolist() == host(params[0].data).ravel().tolist()


def test_gradients_from_backward_are_copied_in(device):
    """minigrad's backward replaces p.grad out of place; the step copies it into the buffer."""
    results = []
    for fused in (False, True):
        params = make_params([(4, 3), (3,)], np.float64, device, seed=5)
        optimizer = optim.Adam(params, lr=0.05, fused=fused)
        x = mg.tensor(np.random.default_rng(6).standard_normal((8, 4)), device=device)
        for _ in range(3):
            optimizer.zero_grad()
            loss = ((x @ params[0] + params[1]) ** 2).sum()
            loss.backward()
            optimizer.step()
        results.append((params, optimizer))
    assert_same_run(results[0], results[1], np.float64)


@pytest.mark.parametrize("source_fused", [False, True])
@pytest.mark.parametrize("cls", CLASSES)
def test_resume_from_a_state_dict(device, cls, source_fused):
    """Six steps straight equal three, state_dict, a new fused optimizer, load_state_dict, three more."""
    kwargs = {"lr": 0.01, "convention": "pytorch", "weight_decay": 0.01}
    straight = run(cls, kwargs, SHAPES, np.float64, device, fused=False, steps=6)
    params, first = run(cls, kwargs, SHAPES, np.float64, device, fused=source_fused, steps=3)
    saved = first.state_dict()
    second = cls(params, fused=True, **kwargs)
    second.load_state_dict(saved)
    rng = np.random.default_rng(1)
    for _ in range(3):  # the same draws as the first three calls, then the last three
        for p in params:
            rng.standard_normal(p.shape)
    for _ in range(3):
        for p in params:
            p.grad = mg.Tensor(backend.to_device(rng.standard_normal(p.shape), device))
        second.step()
    assert_same_run(straight, (params, second), np.float64)
    saved_again = second.state_dict()
    assert saved_again["state"][0]["m"].base is None  # a copy, not a view


def test_replaced_data_and_new_groups_are_bound_again(device):
    """A new param.data of the same kind is copied in; new parameters (add_param_group) rebuild the buffers."""
    results = []
    for fused in (False, True):
        params = make_params([(5,), (2, 3)], np.float64, device, seed=7)
        extra = make_params([(4,)], np.float64, device, seed=8)
        optimizer = optim.AMSGrad(params, lr=0.02, fused=fused)
        rng = np.random.default_rng(9)
        for call in range(6):
            if call == 2:
                params[0].data = backend.to_device(np.arange(5.0), device)
            if call == 3:
                optimizer.add_param_group({"params": extra, "lr": 0.1})
            for p in params + (extra if call >= 3 else []):
                p.grad = mg.Tensor(backend.to_device(rng.standard_normal(p.shape), device))
            optimizer.step()
        results.append((params + extra, optimizer))
    assert_same_run(results[0], results[1], np.float64)
    engine = results[1][1]._fused_engine
    assert all(p.data is engine.slots[id(p)].param_view for p in results[1][0])


def test_keras_style_apply_gradients_and_minimize(device):
    """params=None binds at the first apply_gradients; minimize works too."""
    results = []
    for fused in (False, True):
        params = make_params([(3,), (2, 2)], np.float64, device, seed=11)
        optimizer = optim.Adamax(None, convention="keras", fused=fused)
        rng = np.random.default_rng(12)
        for _ in range(3):
            grads = [backend.to_device(rng.standard_normal(p.shape), device) for p in params]
            optimizer.apply_gradients(zip(grads, params))
        first = params[0]
        optimizer.minimize(lambda first=first: (first * first).sum())
        results.append((params, optimizer))
    assert_same_run(results[0], results[1], np.float64)


def test_sparse_gradients_update_densely_when_not_lazy(device):
    """A row-sparse gradient with lazy=False is densified by the pipeline and fused like any other."""
    results = []
    for fused in (False, True):
        (table,) = make_params([(6, 3)], np.float64, device, seed=13)
        optimizer = optim.Adam([table], lr=0.05, lazy=False, fused=fused)
        for call in range(3):
            indices = backend.to_device(np.array([call, 4, call]), device)
            values = backend.to_device(np.full((3, 3), 0.5 + call), device)
            optimizer.apply_gradients([(RowSparseGrad(indices, values, (6, 3)), table)])
        results.append(([table], optimizer))
    assert_same_run(results[0], results[1], np.float64)


# --------------------------------------------------------------------------- errors and configuration
def test_fused_must_be_a_bool(device):
    (x,) = make_params([(2,)], np.float64, device)
    with pytest.raises(TypeError, match=r"fused: expected True or False, got 1"):
        optim.Adam([x], fused=1)


def test_algorithms_without_a_fused_path_are_refused(device):
    (x,) = make_params([(2,)], np.float64, device)
    with pytest.raises(TypeError, match=r"fused: SGD has no fused path"):
        optim.SGD([x], lr=0.1, fused=True)


def test_lazy_updates_are_refused(device):
    """lazy=True is refused at construction; a convention's lazy default is refused when a sparse gradient
    arrives, before anything changes."""
    (table,) = make_params([(4, 2)], np.float64, device)
    with pytest.raises(ValueError, match=r"lazy: .*lazy=True cannot be combined with fused=True"):
        optim.Adam([table], lr=0.1, lazy=True, fused=True)
    optimizer = optim.Adamax([table], convention="tensorflow", fused=True)
    before = host(table.data)
    grad = RowSparseGrad(backend.to_device(np.array([1]), device), backend.to_device(np.ones((1, 2)), device), (4, 2))
    with pytest.raises(ValueError, match=r"shape \(4, 2\) has a row-sparse gradient.*lazy=False"):
        optimizer.apply_gradients([(grad, table)])
    assert np.array_equal(host(table.data), before)
    assert optimizer.iterations == 0 and optimizer.calls == 0 and not optimizer.state


@pytest.mark.parametrize("cls", CLASSES)
def test_get_config_keeps_fused(device, cls):
    (x,) = make_params([(2,)], np.float64, device)
    config = json.loads(json.dumps(cls([x], lr=0.01, fused=True).get_config()))
    assert config["fused"] is True
    assert cls.from_config(config, [x]).fused is True
    assert "fused" not in cls([x], lr=0.01).get_config()


def test_bench_command_prints_the_table_and_the_goals(capsys):
    """``python -m optim bench`` on a tiny shape: the floor, both minigrad paths, a Markdown table, the goals."""
    from optim.__main__ import main

    assert main(["bench", "--shapes", "3x1000", "--algorithms", "adam", "--steps", "1", "--rounds", "1",
                 "--warmup", "0"]) == 0
    out = capsys.readouterr().out
    for row in ("| adam | 3 x 1000 | floor |", "| adam | 3 x 1000 | reference |", "| adam | 3 x 1000 | fused |"):
        assert row in out
    assert "copy bandwidth" in out and "adam 3 x 1000: fused" in out


def test_worker_threads_follow_the_callers_errstate(small_chunks):
    """np.errstate is per thread; the fused step applies the caller's to every worker, as the reference does."""
    for fused in (False, True):
        (x,) = make_params([(8192,)], np.float64, "cpu")
        optimizer = optim.Adamax([x], lr=0.1, eps=0.0, fused=fused)
        x.grad = mg.Tensor(np.zeros(8192))  # u = 0 and m = 0: 0 / 0 in every chunk
        with np.errstate(invalid="raise"), pytest.raises(FloatingPointError):
            optimizer.step()
