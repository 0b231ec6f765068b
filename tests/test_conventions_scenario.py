"""Named conventions on the discriminating five-step scenario (recorded framework runs): each framework's trajectory.

Reference numbers come from the scenario run with
the released frameworks (PyTorch 2.13.0, Keras 3.15.1, TensorFlow 2.21.0 + tf_keras 2.21.0 legacy
optimizers, Optax 0.2.8); the tables live in tests/conventions_data.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from conventions_data import (
    EFFICIENT_EPS_HAT_F64,
    KERAS_ACCUMULATE_2,
    KERAS_ADAM,
    KERAS_ADAM_EPS01,
    KERAS_ADAM_WD,
    KERAS_ADAMAX,
    KERAS_ADAMAX_EPS01,
    KERAS_AMSGRAD,
    KERAS_CLIPNORM,
    KERAS_EMA,
    KERAS_LOSS_SCALE,
    OPTAX_ADAM,
    OPTAX_AMSGRAD,
    OPTAX_AMSGRAD_NO_BIAS_CORRECTION,
    PAPER_ADAMAX_NO_EPS_F64,
    PAPER_ALG1_F64,
    PYTORCH_ADAM,
    PYTORCH_ADAM_EPS01,
    PYTORCH_ADAM_L2,
    PYTORCH_ADAM_MAXIMIZE,
    PYTORCH_ADAMAX,
    PYTORCH_ADAMAX_EPS01,
    PYTORCH_ADAMAX_L2,
    PYTORCH_ADAMW,
    PYTORCH_AMSGRAD,
    TF_LEGACY_ADAM,
    TF_LEGACY_ADAM_DECAY,
    TF_LEGACY_ADAMAX_LAZY,
    TF_LEGACY_AMSGRAD,
    X0,
    G,
)
from conventions_helpers import F32, F64_TABLE, trajectory

import optim

# (id, factory, expected rows, source) -- every run is float32, lr = 0.1, betas (0.9, 0.999) unless stated.
SCENARIO = [
    ("pytorch-adam", lambda p: optim.Adam(p, lr=0.1, convention="pytorch"), PYTORCH_ADAM,
     "PyTorch 2.13.0 torch.optim.Adam(lr=0.1)"),
    ("pytorch-amsgrad", lambda p: optim.Adam(p, lr=0.1, amsgrad=True, convention="pytorch"), PYTORCH_AMSGRAD,
     "PyTorch 2.13.0 torch.optim.Adam(lr=0.1, amsgrad=True)"),
    ("pytorch-amsgrad-class", lambda p: optim.AMSGrad(p, lr=0.1, convention="pytorch"), PYTORCH_AMSGRAD,
     "PyTorch 2.13.0 torch.optim.Adam(lr=0.1, amsgrad=True)"),
    ("pytorch-adamax", lambda p: optim.Adamax(p, lr=0.1, convention="pytorch"), PYTORCH_ADAMAX,
     "PyTorch 2.13.0 torch.optim.Adamax(lr=0.1)"),
    ("pytorch-adam-l2", lambda p: optim.Adam(p, lr=0.1, weight_decay=0.1, convention="pytorch"), PYTORCH_ADAM_L2,
     "PyTorch 2.13.0 torch.optim.Adam(lr=0.1, weight_decay=0.1)"),
    ("pytorch-adamw", lambda p: optim.Adam(p, lr=0.1, weight_decay=0.1, decoupled_weight_decay=True,
                                           convention="pytorch"), PYTORCH_ADAMW,
     "PyTorch 2.13.0 torch.optim.AdamW(lr=0.1, weight_decay=0.1)"),
    ("pytorch-adam-maximize", lambda p: optim.Adam(p, lr=0.1, maximize=True, convention="pytorch"),
     PYTORCH_ADAM_MAXIMIZE, "PyTorch 2.13.0 torch.optim.Adam(lr=0.1, maximize=True)"),
    ("pytorch-adam-eps0.1", lambda p: optim.Adam(p, lr=0.1, eps=0.1, convention="pytorch"), PYTORCH_ADAM_EPS01,
     "PyTorch 2.13.0 torch.optim.Adam(lr=0.1, eps=0.1)"),
    ("pytorch-adamax-eps0.1", lambda p: optim.Adamax(p, lr=0.1, eps=0.1, convention="pytorch"),
     PYTORCH_ADAMAX_EPS01, "PyTorch 2.13.0 torch.optim.Adamax(lr=0.1, eps=0.1)"),
    ("pytorch-adamax-l2", lambda p: optim.Adamax(p, lr=0.1, weight_decay=0.1, convention="pytorch"),
     PYTORCH_ADAMAX_L2, "PyTorch 2.13.0 torch.optim.Adamax(lr=0.1, weight_decay=0.1)"),
    ("keras-adam", lambda p: optim.Adam(p, lr=0.1, convention="keras"), KERAS_ADAM,
     "Keras 3.15.1 keras.optimizers.Adam(0.1), epsilon 1e-7"),
    ("keras-amsgrad", lambda p: optim.Adam(p, lr=0.1, amsgrad=True, convention="keras"), KERAS_AMSGRAD,
     "Keras 3.15.1 keras.optimizers.Adam(0.1, amsgrad=True)"),
    ("keras-adamax", lambda p: optim.Adamax(p, lr=0.1, convention="keras"), KERAS_ADAMAX,
     "Keras 3.15.1 keras.optimizers.Adamax(0.1), epsilon 1e-7"),
    ("keras-adam-wd", lambda p: optim.Adam(p, lr=0.1, weight_decay=0.1, convention="keras"), KERAS_ADAM_WD,
     "Keras 3.15.1 keras.optimizers.Adam(0.1, weight_decay=0.1) (decoupled)"),
    ("keras-adam-eps0.1", lambda p: optim.Adam(p, lr=0.1, eps=0.1, convention="keras"), KERAS_ADAM_EPS01,
     "Keras 3.15.1 keras.optimizers.Adam(0.1, epsilon=0.1)"),
    ("keras-adamax-eps0.1", lambda p: optim.Adamax(p, lr=0.1, eps=0.1, convention="keras"), KERAS_ADAMAX_EPS01,
     "Keras 3.15.1 keras.optimizers.Adamax(0.1, epsilon=0.1)"),
    ("tensorflow-adam", lambda p: optim.Adam(p, lr=0.1, convention="tensorflow"), TF_LEGACY_ADAM,
     "TensorFlow 2.21.0 / tf_keras 2.21.0 tf.keras.optimizers.legacy.Adam(0.1), epsilon 1e-7"),
    ("tensorflow-amsgrad", lambda p: optim.Adam(p, lr=0.1, amsgrad=True, convention="tensorflow"),
     TF_LEGACY_AMSGRAD, "tf_keras 2.21.0 tf.keras.optimizers.legacy.Adam(0.1, amsgrad=True)"),
    ("tensorflow-adamax", lambda p: optim.Adamax(p, lr=0.1, convention="tensorflow"), KERAS_ADAMAX,
     "Keras 3.15.1 Adamax(0.1) == tf_keras 2.21.0 legacy Adamax dense (to ~1e-7)"),
    ("tensorflow-adam-decay", lambda p: optim.Adam(p, lr=0.1, decay=0.5, convention="tensorflow"),
     TF_LEGACY_ADAM_DECAY, "tf_keras 2.21.0 tf.keras.optimizers.legacy.Adam(0.1, decay=0.5)"),
    ("optax-adam", lambda p: optim.Adam(p, lr=0.1, convention="optax"), OPTAX_ADAM, "Optax 0.2.8 optax.adam(0.1)"),
    ("optax-amsgrad", lambda p: optim.Adam(p, lr=0.1, amsgrad=True, convention="optax"), OPTAX_AMSGRAD,
     "Optax 0.2.8 optax.amsgrad(0.1) (max of the bias-corrected nu)"),
    ("optax-adamax", lambda p: optim.Adamax(p, lr=0.1, convention="optax"), PYTORCH_ADAMAX,
     "Optax 0.2.8 optax.adamax(0.1) == PyTorch 2.13.0 Adamax to ~1e-7"),
    ("paper-amsgrad", lambda p: optim.AMSGrad(p, lr=0.1, convention="paper"), OPTAX_AMSGRAD_NO_BIAS_CORRECTION,
     "Optax 0.2.8 optax.amsgrad(0.1, bias_correction_mu=False, bias_correction_nu=False) = Reddi et al. Alg. 2"),
    ("mindspore-adamax", lambda p: optim.Adamax(p, lr=0.1, convention="mindspore"), PYTORCH_ADAMAX,
     "MindSpore 2.10.0 experimental Adamax has PyTorch's formula (mindspore/experimental/optim/adamax.py); "
     "numbers: PyTorch 2.13.0 Adamax"),
    ("keras-accumulate-2", lambda p: optim.Adam(p, lr=0.1, gradient_accumulation_steps=2, convention="keras"),
     KERAS_ACCUMULATE_2, "Keras 3.15.1 Adam(0.1, gradient_accumulation_steps=2)"),
    ("keras-ema", lambda p: optim.Adam(p, lr=0.1, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2,
                                       convention="keras"), KERAS_EMA,
     "Keras 3.15.1 Adam(0.1, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)"),
    ("keras-clipnorm", lambda p: optim.Adam(p, lr=0.1, clipnorm=0.5, convention="keras"), KERAS_CLIPNORM,
     "Keras 3.15.1 Adam(0.1, clipnorm=0.5)"),
    ("keras-loss-scale", lambda p: optim.Adam(p, lr=0.1, loss_scale_factor=4.0, convention="keras"),
     KERAS_LOSS_SCALE, "Keras 3.15.1 Adam(0.1, loss_scale_factor=4.0) with the unscaled gradients"),
]


@pytest.mark.parametrize("make, expected, source", [s[1:] for s in SCENARIO], ids=[s[0] for s in SCENARIO])
def test_scenario_matches_the_frameworks(device, make, expected, source):
    """Recorded framework runs: X0 = [1, -0.5, 2, 0], five gradient rows, float32, lr 0.1; each convention
    (with the framework's keywords) must reproduce that framework's parameter after every step
    (rtol 2e-6, atol 1e-6; `source` names the framework and version that printed the numbers)."""
    np.testing.assert_allclose(trajectory(make, G, device, X0), np.array(expected), **F32, err_msg=source)


def test_scenario_tf_legacy_lazy_sparse_adamax(device):
    """Recorded run: tf_keras 2.21.0 legacy Adamax(0.1) fed IndexedSlices whose indices are the non-zero
    entries of each row updates lazily: a coordinate without a gradient keeps its value, m and u (so
    coordinate 2 stays 2.1 at t = 2, 3, and nothing moves at t = 5)."""
    rows = trajectory(lambda p: optim.Adamax(p, lr=0.1, convention="tensorflow"), G, device, X0, sparse=True)
    np.testing.assert_allclose(rows, np.array(TF_LEGACY_ADAMAX_LAZY), **F32)
    # The dense run differs at t = 2 in coordinate 2 (legacy dense Adamax gives 2.1474156).
    assert abs(rows[1, 2] - 2.1) < 1e-6


@pytest.mark.parametrize("case", [
    ("pytorch-adam", "Adam", {"eps": 0.1}, "pytorch", [0.90909094, -0.5090909, 2.0833333, 0.0],
     [0.78468066, -0.6990126, 2.1975996, -0.09724721], "PyTorch 2.13.0 Adam(lr=0.1, eps=0.1)"),
    ("optax-adam", "Adam", {"eps": 0.1}, "optax", [0.9090915, -0.5090909, 2.0833328, 0.0],
     [0.78468204, -0.6990112, 2.1975982, -0.0972468], "Optax 0.2.8 adam(0.1, eps=0.1)"),
    ("tensorflow-adam", "Adam", {"eps": 0.1}, "tensorflow", [0.9759748, -0.50031525, 2.0136526, 0.0],
     [0.94081205, -0.5539915, 2.0346282, -0.013895993], "tf_keras 2.21.0 legacy Adam(0.1, epsilon=0.1)"),
    ("pytorch-amsgrad", "AMSGrad", {"eps": 0.1}, "pytorch", None,
     [0.78474253, -0.69892454, 2.1975467, -0.09722327], "PyTorch 2.13.0 Adam(0.1, amsgrad=True, eps=0.1)"),
    ("keras-amsgrad", "AMSGrad", {"eps": 0.1}, "keras", None,
     [0.94081706, -0.55398405, 2.0346265, -0.013895456], "Keras 3.15.1 Adam(0.1, amsgrad=True, epsilon=0.1)"),
    ("optax-amsgrad", "AMSGrad", {"eps": 0.1}, "optax", None,
     [0.82631934, -0.669721, 2.1617117, -0.09094711], "Optax 0.2.8 amsgrad(0.1, eps=0.1)"),
], ids=lambda c: c[0])
def test_scenario_eps_0_1_rows(device, case):
    """Recorded eps = 0.1 rows (first and last step) for the frameworks whose full tables are not
    printed: a large eps makes Algorithm 1 (eps outside sqrt(v_hat)) and the epsilon-hat form diverge."""
    _, name, kwargs, convention, row1, row5, source = case
    cls = getattr(optim, name)
    rows = trajectory(lambda p: cls(p, lr=0.1, convention=convention, **kwargs), G, device, X0)
    if row1 is not None:
        np.testing.assert_allclose(rows[0], row1, **F32, err_msg=source)
    np.testing.assert_allclose(rows[4], row5, **F32, err_msg=source)


@pytest.mark.parametrize("make, expected", [
    (lambda p: optim.Adam(p, lr=0.1, convention="paper"), PAPER_ALG1_F64),
    (lambda p: optim.Adam(p, lr=0.1, convention="keras", epsilon_mode="epsilon_hat", eps=1e-7, lr_dtype="float64"),
     EFFICIENT_EPS_HAT_F64),
    (lambda p: optim.Adam(p, lr=0.1, convention="pytorch", epsilon_mode="epsilon_hat", eps=1e-7),
     EFFICIENT_EPS_HAT_F64),
    (lambda p: optim.Adam(p, lr=0.1, convention="keras", epsilon_mode="algorithm1", eps=1e-8, lr_dtype="float64"),
     PAPER_ALG1_F64),
], ids=["paper-alg1", "keras-eps-hat", "pytorch+epsilon_hat", "keras+algorithm1"])
def test_scenario_float64_references(device, make, expected):
    """Float64 references: Kingma & Ba Algorithm 1 (eps 1e-8) and the Section 2 efficient form with a
    constant eps_hat = 1e-7, printed to 9 decimals. An explicit ``epsilon_mode`` overrides the convention's; the
    Keras rows set floatx to float64 (``lr_dtype``, Keras's ``set_floatx``), so that lr is 0.1 itself."""
    rows = trajectory(make, G, device, X0, dtype=np.float64)
    np.testing.assert_allclose(rows, np.array(expected), **F64_TABLE)


def test_scenario_paper_adamax_without_eps_is_algorithm2(device):
    """Float64 reference of Kingma & Ba Algorithm 2 with no epsilon: coordinate 3 starts with zero
    gradients, so m/u = 0/0 is NaN (and stays NaN); ``eps=0`` gives the box literally."""
    with np.errstate(invalid="ignore", divide="ignore"):
        rows = trajectory(lambda p: optim.Adamax(p, lr=0.1, eps=0.0, convention="paper"), G, device, X0,
                          dtype=np.float64)
    np.testing.assert_allclose(rows, np.array(PAPER_ADAMAX_NO_EPS_F64), rtol=0, atol=1e-8, equal_nan=True)
    assert np.isnan(rows[:, 3]).all()
