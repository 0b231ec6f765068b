"""The bad-input catalogue: every public function and constructor refuses bad arguments clearly.

Each row of ``CATALOGUE`` is one bad call: an id, the call (a function of the
:class:`World`), the exception type, and substrings the message must contain, at
least the argument's name and the offending value (or its type, shape or dtype).
Every call runs against a world holding state that a careless implementation could
damage (a trained model and optimizer with moments and an EMA, a tensor with a
gradient, raw arrays for :mod:`optim.functional`); the test checks that after the
refusal every bit of that state is as it was. A row's optional ``setup`` runs before
the snapshot (e.g. to attach a wrong gradient that ``step`` must then refuse).

Categories: tensor creation; tensor methods and operators; functions and losses;
gradcheck; nn layers and modules; data sets; optimizer construction (types, ranges,
NaN/inf hyperparameters, unknown keywords, choices); optimizer calls (gradients of
the wrong shape, dtype or type, foreign parameters, non-finite gradients under
``nonfinite="raise"``); mismatched state (load_state_dict, from_config); the
functional update rules; schedules; checkpoints. docs/reliability.md summarises it.
The world and the row type live in tests/bad_input_world.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from bad_input_world import World, case

import minigrad as mg
import optim
from minigrad import nn
from minigrad.datasets import batches, load_digits, train_test_split
from optim import functional, schedules

NAN, INF = math.nan, math.inf


def _set_grad(w: World, array: Any) -> None:
    w.weight.grad = mg.tensor(array, device=w.device) if not isinstance(array, str) else array


def _state_dict(w: World, edit: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    state = w.opt.state_dict()
    edit(state)
    return state


def _plain_callable_config(w: World) -> Any:
    return optim.Adam(w.model.parameters(), lr=lambda k: 0.1).get_config()


CATALOGUE = [
    # ----------------------------------------------------------------- tensor creation
    case("tensor-str", lambda w: mg.tensor("abc"), TypeError, "data", "'abc'"),
    case("tensor-none", lambda w: mg.tensor(None), TypeError, "data", "None"),
    case("tensor-ragged", lambda w: mg.tensor([[1.0], [2.0, 3.0]]), ValueError, "data", "[[1.0], [2.0, 3.0]]"),
    case("tensor-dtype", lambda w: mg.tensor([1.0], dtype="float99"), TypeError, "dtype", "'float99'"),
    case("tensor-requires-grad-str", lambda w: mg.tensor([1.0], requires_grad="yes"), TypeError,
         "requires_grad", "'yes'"),
    case("tensor-int-requires-grad", lambda w: mg.tensor([1, 2], requires_grad=True), TypeError,
         "requires_grad", "int64"),
    case("tensor-device", lambda w: mg.tensor([1.0], device="tpu"), ValueError, "device", "'tpu'"),
    case("tensor-missing-gpu", lambda w: mg.tensor([1.0], device="cuda:99"), RuntimeError, "device cuda:99"),
    case("Tensor-list", lambda w: mg.Tensor([1.0]), TypeError, "data", "list"),
    case("Tensor-object-array", lambda w: mg.Tensor(np.array([object()])), TypeError, "data", "object"),
    case("Device-int", lambda w: mg.Device(5), TypeError, "device", "5"),
    # ----------------------------------------------------------------- tensor methods and operators
    case("reshape-size", lambda w: w.x.reshape(4, 2), ValueError, "shape", "(4, 2)", "6 element"),
    case("reshape-type", lambda w: w.x.reshape("a"), ValueError, "shape", "('a',)"),
    case("reshape-two-unknowns", lambda w: w.x.reshape(-1, -1), ValueError, "shape", "(-1, -1)"),
    case("transpose-repeated", lambda w: w.x.transpose(0, 0), ValueError, "axes", "(0, 0)"),
    case("sum-axis-range", lambda w: w.x.sum(axis=2), ValueError, "axis", "2"),
    case("sum-axis-type", lambda w: w.x.sum(axis="a"), ValueError, "axis", "'a'"),
    case("item-many", lambda w: w.x.item(), ValueError, "item", "(2, 3)"),
    case("add-str", lambda w: w.x + "abc", TypeError, "operand", "'abc'"),
    case("mul-none", lambda w: w.x * None, TypeError, "operand", "None"),
    case("broadcast", lambda w: w.x + mg.tensor(np.ones(4), device=w.device), ValueError, "(2,3)", "(4,)"),
    case("matmul-shapes", lambda w: w.x @ w.x, ValueError, "matmul", "(2, 3)"),
    case("matmul-scalar", lambda w: mg.matmul(w.x, 2.0), ValueError, "matmul", "()"),
    case("backward-non-scalar", lambda w: (w.x * 2).backward(), RuntimeError, "grad", "(2, 3)"),
    case("backward-grad-shape", lambda w: (w.x * 2).backward(np.ones(3)), ValueError, "grad", "(3,)", "(2, 3)"),
    case("backward-no-grad", lambda w: mg.tensor([1.0]).backward(), RuntimeError, "backward",
         "does not require gradients"),
    case("backward-twice", lambda w: w.loss.backward(), RuntimeError, "backward", "retain_graph=True",
         setup=lambda w: (setattr(w, "loss", (w.table * w.table).sum()), w.loss.backward(),
                          setattr(w.table, "grad", None))),
    case("retain-grad-constant", lambda w: mg.tensor([1.0]).retain_grad(), RuntimeError, "retain_grad"),
    case("requires-grad-non-leaf", lambda w: (w.x * 2).requires_grad_(False), RuntimeError,
         "requires_grad_", "leaf"),
    case("astype-dtype", lambda w: w.x.astype("int99"), TypeError, "dtype", "'int99'"),
    case("to-device", lambda w: w.x.to("tpu"), ValueError, "device", "'tpu'"),
    # ----------------------------------------------------------------- functions and losses
    case("cross-entropy-logits", lambda w: mg.cross_entropy(np.ones((2, 3)), [0, 1]), TypeError,
         "logits", "ndarray"),
    case("cross-entropy-float-targets", lambda w: mg.cross_entropy(w.x, np.array([0.5, 1.0])), TypeError,
         "targets", "float64"),
    case("cross-entropy-range", lambda w: mg.cross_entropy(w.x, [0, 3]), ValueError, "targets", "[0, 3)", "3"),
    case("cross-entropy-shape", lambda w: mg.cross_entropy(w.x, [0, 1, 2]), ValueError, "targets", "(3,)"),
    case("mse-shape", lambda w: mg.mse_loss(w.x, np.ones(3)), ValueError, "target", "(3,)"),
    case("mse-prediction", lambda w: mg.mse_loss([1.0], w.x), TypeError, "prediction", "list"),
    case("embedding-float-indices", lambda w: mg.embedding(w.table, [0.5]), TypeError, "indices", "float64"),
    case("embedding-range", lambda w: mg.embedding(w.table, [5]), ValueError, "indices", "[0, 4)", "5"),
    case("embedding-weight", lambda w: mg.embedding(w.x[0], [0]), ValueError, "weight", "(3,)"),
    case("concatenate-empty", lambda w: mg.concatenate([]), ValueError, "tensors", "empty"),
    case("stack-shapes", lambda w: mg.stack([w.x, w.x.T]), ValueError, "tensors", "(2, 3)", "(3, 2)"),
    case("linear-weight", lambda w: mg.linear(w.x, mg.tensor(np.ones((4, 5)), device=w.device)), ValueError,
         "weight", "(4, 5)"),
    case("linear-bias", lambda w: mg.linear(w.x, w.x, mg.tensor(np.ones(3), device=w.device)), ValueError,
         "bias", "(3,)"),
    case("softmax-axis", lambda w: mg.softmax(w.x, axis=5), ValueError, "axis", "5"),
    case("row-sparse-indices", lambda w: mg.RowSparseGrad(np.array([0.5]), np.ones((1, 2)), (3, 2)), ValueError,
         "indices", "0.5"),
    case("from-dlpack", lambda w: mg.from_dlpack(5), TypeError, "from_dlpack", "int"),
    # ----------------------------------------------------------------- gradcheck
    case("gradcheck-fn", lambda w: mg.gradcheck(5, w.x), TypeError, "fn", "5"),
    case("gradcheck-eps", lambda w: mg.gradcheck(mg.tanh, w.x, eps=0.0), ValueError, "eps", "0.0"),
    case("gradcheck-atol-nan", lambda w: mg.gradcheck(mg.tanh, w.x, atol=NAN), ValueError, "atol", "nan"),
    case("gradcheck-rtol-type", lambda w: mg.gradcheck(mg.tanh, w.x, rtol="1e-5"), TypeError, "rtol", "'1e-5'"),
    case("gradcheck-no-inputs", lambda w: mg.gradcheck(mg.tanh, np.ones(2)), ValueError, "inputs",
         "requires_grad"),
    # ----------------------------------------------------------------- nn
    case("linear-in-features", lambda w: nn.Linear(0, 3), ValueError, "in_features", "0"),
    case("linear-out-features", lambda w: nn.Linear(2, 3.5), ValueError, "out_features", "3.5"),
    case("linear-bias-flag", lambda w: nn.Linear(2, 3, bias="yes"), TypeError, "bias", "'yes'"),
    case("linear-int-dtype", lambda w: nn.Linear(2, 3, dtype=np.int32), ValueError, "dtype", "int32"),
    case("linear-rng", lambda w: nn.Linear(2, 3, rng="seed"), TypeError, "rng", "'seed'"),
    case("embedding-sparse-flag", lambda w: nn.Embedding(3, 2, sparse=1), TypeError, "sparse", "1"),
    case("mlp-one-size", lambda w: nn.MLP([3]), ValueError, "sizes", "[3]"),
    case("mlp-activation", lambda w: nn.MLP([3, 2], activation="gelu"), ValueError, "activation", "'gelu'"),
    case("mlp-sizes-type", lambda w: nn.MLP(5), TypeError, "sizes", "5"),
    case("sequential-module", lambda w: nn.Sequential(5), TypeError, "modules[0]", "int"),
    case("module-load-shape", lambda w: w.model.load_state_dict(
        {**w.model.state_dict(), "0.weight": np.ones((5, 3), np.float32)}), ValueError, "0.weight", "(5, 3)"),
    case("module-load-missing", lambda w: w.model.load_state_dict({"0.weight": np.ones((4, 3), np.float32)}),
         KeyError, "missing", "0.bias"),
    case("module-load-dtype", lambda w: w.model.load_state_dict(
        {**w.model.state_dict(), "2.bias": np.ones(2)}), ValueError, "2.bias", "float64"),
    case("module-load-type", lambda w: w.model.load_state_dict([1, 2]), TypeError, "state", "list"),
    case("module-to", lambda w: w.model.to("tpu"), ValueError, "device", "'tpu'"),
    # ----------------------------------------------------------------- data sets
    case("split-fraction", lambda w: train_test_split(np.ones((4, 2)), np.ones(4), test_fraction=1.5), ValueError,
         "test_fraction", "1.5"),
    case("split-lengths", lambda w: train_test_split(np.ones((4, 2)), np.ones(3)), ValueError, "y", "4", "3"),
    case("batches-size", lambda w: batches(np.ones((4, 2)), np.ones(4), batch_size=0), ValueError,
         "batch_size", "0"),
    case("batches-shuffle", lambda w: batches(np.ones((4, 2)), np.ones(4), 2, shuffle="yes"), ValueError,
         "shuffle", "'yes'"),
    case("digits-dtype", lambda w: load_digits(dtype="foo"), ValueError, "dtype", "'foo'"),
    case("digits-int-normalized", lambda w: load_digits(dtype=np.int32), ValueError, "dtype", "int32"),
    # ----------------------------------------------------------------- optimizer construction
    case("adam-lr-negative", lambda w: optim.Adam(w.model.parameters(), lr=-1), ValueError, "lr", "-1"),
    case("adam-lr-nan", lambda w: optim.Adam(w.model.parameters(), lr=NAN), ValueError, "lr", "nan"),
    case("adam-lr-inf", lambda w: optim.Adam(w.model.parameters(), lr=INF), ValueError, "lr", "inf"),
    case("adam-lr-str", lambda w: optim.Adam(w.model.parameters(), lr="fast"), TypeError, "lr", "'fast'"),
    case("adam-betas-length", lambda w: optim.Adam(w.model.parameters(), betas=(0.9,)), TypeError,
         "betas", "(0.9,)"),
    case("adam-beta1-one", lambda w: optim.Adam(w.model.parameters(), betas=(1.0, 0.999)), ValueError,
         "betas[0]", "1.0"),
    case("adam-beta2-nan", lambda w: optim.Adam(w.model.parameters(), betas=(0.9, NAN)), ValueError,
         "betas[1]", "nan"),
    case("adam-eps-negative", lambda w: optim.Adam(w.model.parameters(), eps=-1e-8), ValueError, "eps", "-1e-08"),
    case("adam-eps-inf", lambda w: optim.Adam(w.model.parameters(), eps=INF), ValueError, "eps", "inf"),
    case("adam-weight-decay-nan", lambda w: optim.Adam(w.model.parameters(), weight_decay=NAN), ValueError,
         "weight_decay", "nan"),
    case("adam-amsgrad-str", lambda w: optim.Adam(w.model.parameters(), amsgrad="yes"), TypeError,
         "amsgrad", "'yes'"),
    case("adam-convention", lambda w: optim.Adam(w.model.parameters(), convention="jax"), ValueError,
         "convention", "'jax'"),
    case("adam-epsilon-mode", lambda w: optim.Adam(w.model.parameters(), epsilon_mode="inside"), ValueError,
         "epsilon_mode", "'inside'"),
    case("amsgrad-mode", lambda w: optim.AMSGrad(w.model.parameters(), amsgrad_mode="max"), ValueError,
         "amsgrad_mode", "'max'"),
    case("adamax-epsilon", lambda w: optim.Adamax(w.model.parameters(), adamax_epsilon="x"), ValueError,
         "adamax_epsilon", "'x'"),
    case("adam-step-counting", lambda w: optim.Adam(w.model.parameters(), step_counting="local"), ValueError,
         "step_counting", "'local'"),
    case("adam-unknown-keyword", lambda w: optim.Adam(w.model.parameters(), momentum=0.9), TypeError,
         "unexpected keyword", "momentum"),
    case("adam-clipnorm-negative", lambda w: optim.Adam(w.model.parameters(), clipnorm=-1), ValueError,
         "clipnorm", "-1"),
    case("adam-clipvalue-nan", lambda w: optim.Adam(w.model.parameters(), clipvalue=NAN), ValueError,
         "clipvalue", "nan"),
    case("adam-two-clips", lambda w: optim.Adam(w.model.parameters(), clipnorm=1.0, clipvalue=1.0), ValueError,
         "clipnorm", "clipvalue"),
    case("adam-ema-momentum", lambda w: optim.Adam(w.model.parameters(), ema_momentum=1.5), ValueError,
         "ema_momentum", "1.5"),
    case("adam-accumulation", lambda w: optim.Adam(w.model.parameters(), gradient_accumulation_steps=1), ValueError,
         "gradient_accumulation_steps", "1"),
    case("adam-loss-scale-inf", lambda w: optim.Adam(w.model.parameters(), loss_scale_factor=INF), ValueError,
         "loss_scale_factor", "inf"),
    case("adam-decay", lambda w: optim.Adam(w.model.parameters(), decay=-0.1), ValueError, "decay", "-0.1"),
    case("adam-power-dtype", lambda w: optim.Adam(w.model.parameters(), power_dtype="float16"), ValueError,
         "power_dtype", "'float16'"),
    case("adam-nonfinite", lambda w: optim.Adam(w.model.parameters(), nonfinite="ignore"), ValueError,
         "nonfinite", "'ignore'"),
    case("adam-pattern-regex", lambda w: optim.Adam(w.model.parameters(), pattern_lrs=[
        {"patterns": ["("], "lr": 0.1}]), ValueError, "pattern_lrs[0]", "'('"),
    case("optax-needs-lr", lambda w: optim.Adam(w.model.parameters(), convention="optax"), ValueError,
         "lr", "optax"),
    case("sgd-lr-nan", lambda w: optim.SGD(w.model.parameters(), lr=NAN), ValueError, "lr", "nan"),
    case("params-empty", lambda w: optim.Adam([]), ValueError, "params", "empty"),
    case("params-single-tensor", lambda w: optim.Adam(w.weight), TypeError, "params", "single Tensor", "(4, 3)"),
    case("params-int", lambda w: optim.Adam(5), TypeError, "params", "5"),
    case("params-array", lambda w: optim.Adam([np.ones(3)]), TypeError, "params[0]['params'][0]", "array("),
    case("params-int-tensor", lambda w: optim.Adam([mg.tensor([1, 2])]), ValueError, "params[0]['params'][0]",
         "int64"),
    case("params-non-leaf", lambda w: optim.Adam([w.x * 2]), ValueError, "params[0]['params'][0]", "non-leaf"),
    case("params-twice", lambda w: optim.Adam([w.weight, w.weight]), ValueError, "params[0]['params'][1]",
         "twice"),
    case("group-lr", lambda w: optim.Adam([{"params": [w.weight], "lr": -1}]), ValueError, "lr", "-1"),
    case("group-unknown", lambda w: optim.Adam([{"params": [w.weight], "momentum": 0.9}]), ValueError,
         "params[0]", "momentum"),
    # ----------------------------------------------------------------- optimizer calls
    case("step-grad-shape", lambda w: w.opt.step(), ValueError, "grad", "(3, 4)", "(4, 3)",
         setup=lambda w: _set_grad(w, np.ones((3, 4), np.float32))),
    case("step-grad-dtype", lambda w: w.opt.step(), ValueError, "grad", "float64", "float32",
         setup=lambda w: _set_grad(w, np.ones((4, 3)))),
    case("step-grad-type", lambda w: w.opt.step(), TypeError, "grad", "'g'", setup=lambda w: _set_grad(w, "g")),
    case("apply-not-a-pair", lambda w: w.opt.apply_gradients([(1,)]), TypeError, "grads_and_vars[0]", "(1,)"),
    case("apply-foreign", lambda w: w.opt.apply_gradients([(np.ones(3), w.x)]), ValueError, "grads_and_vars",
         "(2, 3)", "not optimised"),
    case("step-nonfinite-raise", lambda w: w.strict.step(), FloatingPointError, "parameter 0", "'0.weight'",
         "(4, 3)", "1 non-finite",
         setup=lambda w: (setattr(w, "strict", optim.Adam(w.model.named_parameters(), nonfinite="raise")),
                          _set_grad(w, np.array([[np.nan, 0, 0]] + [[0, 0, 0]] * 3, np.float32)))),
    case("step-beta-rounds-to-one", lambda w: w.rounding.step(), ValueError, "beta2", "0.99999999", "float32",
         setup=lambda w: setattr(w, "rounding", optim.Adam(w.model.parameters(), betas=(0.9, 0.99999999),
                                                            power_dtype="float32"))),
    case("fused-step-beta-rounds-to-one", lambda w: w.rounding.step(), ValueError, "beta1", "0.999999999",
         setup=lambda w: setattr(w, "rounding", optim.Adamax(w.model.parameters(), betas=(0.999999999, 0.9),
                                                             convention="keras", fused=True))),
    case("weight-decay-pattern", lambda w: w.opt.exclude_from_weight_decay(var_names=["("]), ValueError,
         "var_names", "'('"),
    case("get-config-callable", _plain_callable_config, TypeError, "get_config", "plain callable"),
    # ----------------------------------------------------------------- mismatched state
    case("load-state-type", lambda w: w.opt.load_state_dict([1]), TypeError, "state_dict", "list"),
    case("load-state-algorithm", lambda w: w.opt.load_state_dict(_state_dict(w, lambda s: s.update(
        algorithm="Adamax"))), ValueError, "state_dict['algorithm']", "'Adamax'"),
    case("load-state-shape", lambda w: w.opt.load_state_dict(_state_dict(w, lambda s: s["state"][0].update(
        m=np.ones((2, 2), np.float32)))), ValueError, "state_dict['state'][0]['m']", "(2, 2)"),
    case("load-state-dtype", lambda w: w.opt.load_state_dict(_state_dict(w, lambda s: s["state"][1].update(
        v=np.ones(4)))), ValueError, "state_dict['state'][1]['v']", "float64"),
    case("load-state-step", lambda w: w.opt.load_state_dict(_state_dict(w, lambda s: s["state"][0].update(
        step=-1))), ValueError, "['step']", "-1"),
    case("load-state-iterations", lambda w: w.opt.load_state_dict(_state_dict(w, lambda s: s.update(
        iterations=-3))), ValueError, "iterations", "-3"),
    case("load-state-groups", lambda w: w.opt.load_state_dict(_state_dict(w, lambda s: s["param_groups"].append(
        s["param_groups"][0]))), ValueError, "param_groups", "2 group(s)"),
    case("load-state-lr", lambda w: w.opt.load_state_dict(_state_dict(w, lambda s: s["param_groups"][0].update(
        lr=NAN))), ValueError, "lr", "nan"),
    case("load-state-ema", lambda w: w.opt.load_state_dict(_state_dict(w, lambda s: s["averages"].update(
        {0: np.ones(2, np.float32)}))), ValueError, "state_dict['averages'][0]", "(2,)"),
    case("from-config-name", lambda w: optim.Adam.from_config({"name": "Adamax"}), ValueError,
         "config['name']", "'Adamax'"),
    # ----------------------------------------------------------------- functional update rules
    case("functional-epsilon-mode", lambda w: functional.adam_update(**w.adam_kwargs(epsilon_mode="x")),
         ValueError, "epsilon_mode", "'x'"),
    case("functional-step-zero", lambda w: functional.adam_update(**w.adam_kwargs(step=0)), ValueError,
         "step", "0"),
    case("functional-grad-shape", lambda w: functional.adam_update(**w.adam_kwargs(grad=w.x.xp.ones(2))),
         ValueError, "grad", "(2,)"),
    case("functional-v-max-missing", lambda w: functional.adam_update(
        **w.adam_kwargs(v_max=None, amsgrad_mode="max_raw_v")), ValueError, "v_max", "NoneType"),
    case("functional-beta1", lambda w: functional.adam_update(**w.adam_kwargs(beta1=1.0)), ValueError,
         "beta1", "1.0"),
    case("functional-lr-nan", lambda w: functional.adam_update(**w.adam_kwargs(lr=NAN)), ValueError, "lr", "nan"),
    case("functional-beta2-rounds-to-one", lambda w: functional.adam_update(**w.adam_kwargs(
        beta2=0.99999999, power_dtype="float32", weight_decay=0.1, decoupled_weight_decay=True)), ValueError,
         "beta2", "0.99999999", "float32"),
    case("functional-adamax-epsilon", lambda w: functional.adamax_update(
        w.arrays["param"], w.arrays["grad"], w.arrays["m"], w.arrays["u"], step=1, lr=0.1, beta1=0.9, beta2=0.99,
        eps=1e-8, adamax_epsilon="x"), ValueError, "adamax_epsilon", "'x'"),
    # ----------------------------------------------------------------- schedules
    case("schedule-decay-steps", lambda w: schedules.ExponentialDecay(0.1, 0, 0.5), ValueError,
         "decay_steps", "0"),
    case("schedule-staircase", lambda w: schedules.ExponentialDecay(0.1, 10, 0.5, staircase="yes"), TypeError,
         "staircase", "'yes'"),
    case("schedule-alpha-nan", lambda w: schedules.CosineDecay(0.1, 10, alpha=NAN), ValueError, "alpha", "nan"),
    case("schedule-boundaries-nan", lambda w: schedules.PiecewiseConstantDecay([1, NAN], [0.1, 0.2, 0.3]),
         ValueError, "boundaries", "nan"),
    case("schedule-boundaries-type", lambda w: schedules.PiecewiseConstantDecay(5, [0.1]), TypeError,
         "boundaries", "5"),
    case("schedule-unknown", lambda w: schedules.deserialize({"class_name": "StepDecay", "config": {}}),
         ValueError, "class_name", "'StepDecay'"),
    # ----------------------------------------------------------------- checkpoints
    case("checkpoint-path", lambda w: optim.save_checkpoint(5, w.model), TypeError, "path", "5"),
    case("checkpoint-model", lambda w: optim.save_checkpoint(w.folder / "c.npz", [w.model]), TypeError,
         "model", "list"),
    case("checkpoint-extra", lambda w: optim.save_checkpoint(w.folder / "c.npz", w.model, extra={"a": {1, 2}}),
         TypeError, "extra", "set"),
    case("checkpoint-missing", lambda w: optim.load_checkpoint(w.folder / "missing.npz", w.model), FileNotFoundError,
         "path", "missing.npz"),
    case("checkpoint-not-npz", lambda w: optim.load_checkpoint(w.folder / "notes.txt", w.model, w.opt),
         optim.CheckpointError, "notes.txt", "not an .npz archive",
         setup=lambda w: (w.folder / "notes.txt").write_text("hello")),
]


def test_the_catalogue_is_large_and_unique():
    ids = [c.id for c in CATALOGUE]
    assert len(ids) >= 60
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("entry", CATALOGUE, ids=[c.id for c in CATALOGUE])
def test_bad_input_is_refused_clearly_and_changes_nothing(device, tmp_path, entry):
    world = World(device, tmp_path)
    if entry.setup is not None:
        entry.setup(world)
    before = world.snapshot()
    with pytest.raises(entry.error) as caught:
        entry.call(world)
    message = str(caught.value)
    for needle in entry.needles:
        assert needle in message, f"{needle!r} not in the message {message!r}"
    assert world.snapshot() == before
