"""Bad-input rows for the engine: tensor creation, tensor methods and operators, functions and losses,
gradcheck, nn layers and modules, data sets (see tests/test_bad_inputs.py)."""

from __future__ import annotations

import math

import numpy as np
from bad_input_world import case

import minigrad as mg
from minigrad import nn
from minigrad.datasets import batches, load_digits, train_test_split

NAN, INF = math.nan, math.inf


async def async_step() -> None:
    """An async function, which the grad-mode decorators refuse."""


def assign_without_recording(tensor: mg.Tensor, index: object, value: object) -> None:
    """``tensor[index] = value`` under ``no_grad``, where item assignment is allowed."""
    with mg.no_grad():
        tensor[index] = value


def record_then_assign(w: object) -> None:
    """Record a loss of the world's table, then assign into the table: the loss's backward must refuse."""
    w.loss = (w.table * w.table).sum()
    assign_without_recording(w.table, 0, 5.0)


ROWS = [
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
    case("sum-keepdims-str", lambda w: w.x.sum(keepdims="yes"), TypeError, "keepdims", "'yes'"),
    case("mean-keepdims-int", lambda w: mg.mean(w.x, axis=0, keepdims=1), TypeError, "keepdims", "1"),
    case("max-keepdims-none", lambda w: w.x.max(axis=1, keepdims=None), TypeError, "keepdims", "None"),
    case("min-keepdims-str", lambda w: mg.min(w.x, keepdims="no"), TypeError, "keepdims", "'no'"),
    case("min-axis-range", lambda w: w.x.min(axis=-3), ValueError, "axis", "-3"),
    case("item-many", lambda w: w.x.item(), ValueError, "item", "(2, 3)"),
    case("bool-many", lambda w: bool(w.x), ValueError, "more than one value", "(2, 3)"),
    case("bool-empty", lambda w: bool(w.x[:0]), ValueError, "no values", "(0, 3)"),
    case("add-str", lambda w: w.x + "abc", TypeError, "operand", "'abc'"),
    case("mul-none", lambda w: w.x * None, TypeError, "operand", "None"),
    case("broadcast", lambda w: w.x + mg.tensor(np.ones(4), device=w.device), ValueError, "(2,3)", "(4,)"),
    case("matmul-shapes", lambda w: w.x @ w.x, ValueError, "matmul", "(2, 3)"),
    case("matmul-scalar", lambda w: mg.matmul(w.x, 2.0), ValueError, "matmul", "()"),
    case("backward-non-scalar", lambda w: (w.x * 2).backward(), RuntimeError, "grad", "(2, 3)"),
    case("backward-grad-shape", lambda w: (w.x * 2).backward(np.ones(3)), ValueError, "grad", "(3,)", "(2, 3)"),
    case("backward-grad-str", lambda w: (w.x * 2).backward("a"), TypeError, "grad", "'a'"),
    case("backward-grad-str-list", lambda w: (w.x[0] * 2).backward([1.0, "x", 2.0]), TypeError, "grad",
         "[1.0, 'x', 2.0]"),
    case("backward-grad-complex", lambda w: (w.x * 2).backward(np.ones((2, 3), complex)), TypeError, "grad",
         "complex128", "float64"),
    case("backward-retain-graph-str", lambda w: (w.x * 2).sum().backward(retain_graph="yes"), TypeError,
         "retain_graph", "'yes'"),
    case("backward-create-graph-int", lambda w: (w.x * 2).sum().backward(create_graph=1), TypeError,
         "create_graph", "1"),
    case("backward-no-grad", lambda w: mg.tensor([1.0]).backward(), RuntimeError, "backward",
         "does not require gradients"),
    case("backward-twice", lambda w: w.loss.backward(), RuntimeError, "backward", "retain_graph=True",
         setup=lambda w: (setattr(w, "loss", (w.table * w.table).sum()), w.loss.backward(),
                          setattr(w.table, "grad", None))),
    case("retain-grad-constant", lambda w: mg.tensor([1.0]).retain_grad(), RuntimeError, "retain_grad"),
    case("requires-grad-flag", lambda w: w.x.requires_grad_("no"), TypeError, "requires_grad", "'no'"),
    case("set-grad-enabled-mode", lambda w: mg.set_grad_enabled("no"), TypeError, "mode", "'no'"),
    case("no-grad-decorate", lambda w: mg.no_grad()(5), TypeError, "function", "5"),
    case("no-grad-decorate-async", lambda w: mg.no_grad()(async_step), TypeError, "function", "async_step", "async"),
    case("requires-grad-non-leaf", lambda w: (w.x * 2).requires_grad_(False), RuntimeError,
         "requires_grad_", "leaf"),
    case("astype-dtype", lambda w: w.x.astype("int99"), TypeError, "dtype", "'int99'"),
    case("to-device", lambda w: w.x.to("tpu"), ValueError, "device", "'tpu'"),
    case("float-many", lambda w: float(w.x), ValueError, "float()", "(2, 3)"),
    case("int-many", lambda w: int(w.x[0]), ValueError, "int()", "(3,)"),
    case("format-many", lambda w: format(w.x, ".2f"), TypeError, "format()", "'.2f'", "(2, 3)"),
    case("float-complex", lambda w: float(mg.tensor([1 + 2j], device=w.device)), TypeError, "float()", "(1+2j)"),
    case("less-str", lambda w: w.x < "abc", TypeError, "operand", "'abc'"),
    case("setitem-recording", lambda w: w.x.__setitem__(0, 1.0), RuntimeError, "item assignment", "(2, 3)",
         "no_grad"),
    case("setitem-value-str", lambda w: assign_without_recording(w.x, 0, "abc"), TypeError, "value", "'abc'"),
    case("setitem-value-complex", lambda w: assign_without_recording(w.x, 0, 1j), TypeError, "value",
         "complex128", "float64"),
    case("setitem-value-requires-grad", lambda w: mg.tensor(np.zeros(3), device=w.device).__setitem__(
        slice(None), w.x[0]), RuntimeError, "value", "requires gradients"),
    case("setitem-index", lambda w: assign_without_recording(w.x, (0, 7), 1.0), IndexError, "7"),
    case("setitem-broadcast", lambda w: assign_without_recording(w.x, 0, [1.0, 2.0]), ValueError, "(2,)", "(3,)"),
    case("backward-after-assignment", lambda w: w.loss.backward(), RuntimeError, "item assignment", "Mul",
         setup=record_then_assign),
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
    case("embedding-sparse-str", lambda w: mg.embedding(w.table, [0], sparse="yes"), TypeError, "sparse",
         "'yes'"),
    case("embedding-range", lambda w: mg.embedding(w.table, [5]), ValueError, "indices", "[0, 4)", "5"),
    case("embedding-weight", lambda w: mg.embedding(w.x[0], [0]), ValueError, "weight", "(3,)"),
    case("concatenate-empty", lambda w: mg.concatenate([]), ValueError, "tensors", "empty"),
    case("stack-shapes", lambda w: mg.stack([w.x, w.x.T]), ValueError, "tensors", "(2, 3)", "(3, 2)"),
    case("linear-weight", lambda w: mg.linear(w.x, mg.tensor(np.ones((4, 5)), device=w.device)), ValueError,
         "weight", "(4, 5)"),
    case("linear-bias", lambda w: mg.linear(w.x, w.x, mg.tensor(np.ones(3), device=w.device)), ValueError,
         "bias", "(3,)"),
    case("softmax-axis", lambda w: mg.softmax(w.x, axis=5), ValueError, "axis", "5"),
    case("softmax-axis-str", lambda w: mg.softmax(w.x, axis="a"), ValueError, "axis", "'a'"),
    case("log-softmax-axis-float", lambda w: mg.log_softmax(w.x, axis=1.0), ValueError, "axis", "1.0"),
    case("concatenate-axis", lambda w: mg.concatenate([w.x, w.x], axis="a"), ValueError, "axis", "'a'"),
    case("stack-axis", lambda w: mg.stack([w.x, w.x], axis=3), ValueError, "axis", "3", "stacked result"),
    case("row-sparse-indices", lambda w: mg.RowSparseGrad(np.array([0.5]), np.ones((1, 2)), (3, 2)), ValueError,
         "indices", "0.5"),
    case("row-sparse-asarray-no-copy", lambda w: np.asarray(
        mg.RowSparseGrad(np.array([0]), np.ones((1, 2)), (3, 2)), copy=False), ValueError, "RowSparseGrad",
        "copy=False"),
    case("from-dlpack", lambda w: mg.from_dlpack(5), TypeError, "from_dlpack", "int"),
    case("where-condition-float", lambda w: mg.where(w.x, w.x, 0.0), TypeError, "condition", "float64"),
    case("where-condition-str", lambda w: mg.where("yes", w.x, 0.0), TypeError, "condition", "<U3"),
    case("where-no-tensor", lambda w: mg.where([True], 1.0, 2.0), TypeError, "where", "Tensor"),
    case("clip-no-bound", lambda w: mg.clip(w.x), ValueError, "min", "max", "None"),
    case("clip-bound-str", lambda w: w.x.clip("a"), TypeError, "operand", "'a'"),
    case("argmax-axis", lambda w: mg.argmax(w.x, axis=2), ValueError, "axis", "2"),
    case("argmax-axis-tuple", lambda w: w.x.argmax(axis=(0, 1)), ValueError, "axis", "(0, 1)"),
    case("argmax-keepdims", lambda w: mg.argmax(w.x, keepdims="yes"), TypeError, "keepdims", "'yes'"),
    case("argmax-empty", lambda w: mg.argmax(w.x[:0]), ValueError, "x", "(0, 3)"),
    case("argmax-list", lambda w: mg.argmax([1.0, 2.0]), TypeError, "x", "list"),
    case("logsumexp-axis", lambda w: mg.logsumexp(w.x, axis=3), ValueError, "axis", "3"),
    case("logsumexp-keepdims", lambda w: w.x.logsumexp(keepdims=1), TypeError, "keepdims", "1"),
    case("var-no-freedom", lambda w: mg.var(w.x, axis=0, correction=2), ValueError, "correction", "2",
         "N - correction = 0"),
    case("var-correction-negative", lambda w: w.x.var(correction=-1), ValueError, "correction", "-1"),
    case("var-correction-str", lambda w: mg.var(w.x, correction="1"), TypeError, "correction", "'1'"),
    case("std-correction-nan", lambda w: mg.std(w.x, correction=NAN), ValueError, "correction", "nan"),
    case("std-keepdims", lambda w: w.x.std(keepdims="no"), TypeError, "keepdims", "'no'"),
    case("var-list", lambda w: mg.var([1.0, 2.0]), TypeError, "x", "list"),
    case("gelu-approximate", lambda w: mg.gelu(w.x, approximate="exact"), ValueError, "approximate", "'exact'"),
    case("gelu-complex", lambda w: mg.gelu(mg.tensor([1j], device=w.device)), TypeError, "x", "complex128"),
    # ----------------------------------------------------------------- gradcheck
    case("gradcheck-fn", lambda w: mg.gradcheck(5, w.x), TypeError, "fn", "5"),
    case("gradcheck-eps", lambda w: mg.gradcheck(mg.tanh, w.x, eps=0.0), ValueError, "eps", "0.0"),
    case("gradcheck-atol-nan", lambda w: mg.gradcheck(mg.tanh, w.x, atol=NAN), ValueError, "atol", "nan"),
    case("gradcheck-rtol-type", lambda w: mg.gradcheck(mg.tanh, w.x, rtol="1e-5"), TypeError, "rtol", "'1e-5'"),
    case("gradcheck-raise-exception", lambda w: mg.gradcheck(mg.tanh, w.x, raise_exception=1), TypeError,
         "raise_exception", "1"),
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
    case("module-load-unexpected", lambda w: w.model.load_state_dict({**w.model.state_dict(), 7: np.ones(1)}),
         nn.StateDictKeyError, "unexpected keys [7]", "missing keys []"),
    case("module-load-strict", lambda w: w.model.load_state_dict(w.model.state_dict(), strict="no"), TypeError,
         "strict", "'no'"),
    case("module-train-flag", lambda w: w.model.train("no"), TypeError, "mode", "'no'"),
    case("module-load-dtype", lambda w: w.model.load_state_dict(
        {**w.model.state_dict(), "2.bias": np.ones(2)}), ValueError, "2.bias", "float64"),
    case("module-load-type", lambda w: w.model.load_state_dict([1, 2]), TypeError, "state", "list"),
    case("module-to", lambda w: w.model.to("tpu"), ValueError, "device", "'tpu'"),
    case("gelu-layer-approximate", lambda w: nn.GELU("exact"), ValueError, "approximate", "'exact'"),
    # ----------------------------------------------------------------- data sets
    case("split-fraction", lambda w: train_test_split(np.ones((4, 2)), np.ones(4), test_fraction=1.5), ValueError,
         "test_fraction", "1.5"),
    case("split-lengths", lambda w: train_test_split(np.ones((4, 2)), np.ones(3)), ValueError, "y", "4", "3"),
    case("batches-size", lambda w: batches(np.ones((4, 2)), np.ones(4), batch_size=0), ValueError,
         "batch_size", "0"),
    case("batches-shuffle", lambda w: batches(np.ones((4, 2)), np.ones(4), 2, shuffle="yes"), TypeError,
         "shuffle", "'yes'"),
    case("batches-drop-last", lambda w: batches(np.ones((4, 2)), np.ones(4), 2, drop_last=1), TypeError,
         "drop_last", "1"),
    case("digits-normalize", lambda w: load_digits(normalize="no"), TypeError, "normalize", "'no'"),
    case("digits-dtype", lambda w: load_digits(dtype="foo"), ValueError, "dtype", "'foo'"),
    case("digits-int-normalized", lambda w: load_digits(dtype=np.int32), ValueError, "dtype", "int32"),
]
