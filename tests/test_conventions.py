"""Named conventions: each one's defaults and formula choices, checked against the frameworks' own numbers.

Reference numbers come from /work/shared/reference/optim-conventions.md: §10.3 (a discriminating
five-step scenario run with the released frameworks: PyTorch 2.13.0, Keras 3.15.1, TensorFlow 2.21.0
+ tf_keras 2.21.0 legacy optimizers, Optax 0.2.8), §10.1 (Keras 3.15.1 golden tests and their
full-precision outputs) and §10.2 (the tf_keras 2.21.0 legacy optimizer test fixtures). Every other
expected value is computed in the test from the formula its docstring names.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
import optim
from minigrad import backend
from minigrad.sparse import RowSparseGrad
from optim import functional

F32 = {"rtol": 2e-6, "atol": 1e-6}  # float32 against a framework's float32 output
F64_TABLE = {"rtol": 0.0, "atol": 2e-9}  # float64 against a float64 reference printed with 9 decimals (some truncated)


def dev(array, device):
    return backend.to_device(np.asarray(array), device)


def host(array):
    return backend.to_numpy(array).copy()


def param(values, device, dtype=np.float32):
    return mg.tensor(np.asarray(values, dtype=dtype), requires_grad=True, device=device)


def trajectory(make_opt, grads, device, x0, dtype=np.float32, sparse=False):
    """Apply ``grads`` (one row per call) to a parameter starting at ``x0``; the parameter after each call.

    With ``sparse`` each gradient is given as a :class:`RowSparseGrad` whose indices are its non-zero
    entries (an empty one for an all-zero row), as the tf_keras legacy IndexedSlices run of §10.3."""
    x = param(x0, device, dtype)
    opt = make_opt([x])
    rows = []
    for g in grads:
        g = np.asarray(g, dtype=dtype)
        if sparse:
            idx = np.flatnonzero(g).astype(np.int64)
            grad = RowSparseGrad(dev(idx, device), dev(g[idx], device), g.shape)
        else:
            grad = dev(g, device)
        opt.apply_gradients([(grad, x)])
        rows.append(host(x.data))
    return np.array(rows)


# --------------------------------------------------------------------------- §10.3 scenario
X0 = [1.0, -0.5, 2.0, 0.0]
G = [
    [1.0, 0.01, -0.5, 0.0],
    [0.01, 1.0, 0.0, 0.0],
    [0.01, 0.01, 0.0, 0.3],
    [-0.5, 0.01, 0.2, 0.0],
    [0.0, 0.0, 0.0, 0.0],
]

PYTORCH_ADAM = [
    [0.90000004, -0.5999999, 2.1, 0.0],
    [0.8322531, -0.6750796, 2.1670058, 0.0],
    [0.77924776, -0.73375255, 2.2188015, -0.06388135],
    [0.7664417, -0.7823931, 2.236576, -0.116209075],
    [0.7556177, -0.82350546, 2.2515998, -0.16043793],
]
PAPER_ALG1_F64 = [
    [0.900000001, -0.5999999, 2.099999998, 0.0],
    [0.832253058, -0.675079554, 2.167005822, 0.0],
    [0.779247709, -0.73375251, 2.218801517, -0.063881356],
    [0.76644166, -0.78239304, 2.236576152, -0.116209076],
    [0.755617629, -0.823505379, 2.251599772, -0.160437931],
]
OPTAX_ADAM = [
    [0.9000007, -0.59999925, 2.0999994, 0.0],
    [0.8322544, -0.67507815, 2.1670046, 0.0],
    [0.77924925, -0.7337509, 2.2188, -0.06388112],
    [0.7664433, -0.78239095, 2.2365744, -0.11620833],
    [0.7556194, -0.8235029, 2.251598, -0.16043678],
]
KERAS_ADAM = [
    [0.900001, -0.5999677, 2.0999987, 0.0],
    [0.83225495, -0.6750464, 2.1670034, 0.0],
    [0.77924997, -0.73371893, 2.2187986, -0.06388046],
    [0.7664441, -0.7823588, 2.236573, -0.11620713],
    [0.7556202, -0.82347065, 2.2515965, -0.16043513],
]
TF_LEGACY_ADAM = [
    [0.90000033, -0.5999684, 2.0999994, 0.0],
    [0.8322538, -0.6750475, 2.1670046, 0.0],
    [0.7792485, -0.7337205, 2.2188, -0.06388088],
    [0.7664425, -0.78236073, 2.2365746, -0.1162079],
    [0.7556185, -0.82347286, 2.2515981, -0.16043618],
]
EFFICIENT_EPS_HAT_F64 = [
    [0.900000316, -0.599968387, 2.099999368, 0.0],
    [0.832253587, -0.675047805, 2.167004769, 0.0],
    [0.779248405, -0.733720576, 2.218800138, -0.063880687],
    [0.766442392, -0.782360953, 2.23657467, -0.116207858],
    [0.755618391, -0.823473163, 2.251598202, -0.160436249],
]
PYTORCH_ADAM_EPS01 = [
    [0.90909094, -0.5090909, 2.0833333, 0.0],
    [0.84973925, -0.5748707, 2.1355627, 0.0],
    [0.804562, -0.6248823, 2.1740272, -0.04050657],
    [0.79369974, -0.6654154, 2.1869864, -0.07190634],
    [0.78468066, -0.6990126, 2.1975996, -0.09724721],
]
KERAS_ADAM_EPS01 = [
    [0.97597486, -0.50031525, 2.0136526, 0.0],
    [0.95970416, -0.5183539, 2.0227966, 0.0],
    [0.9469782, -0.5324459, 2.029862, -0.005535183],
    [0.943636, -0.5441243, 2.0324454, -0.01006717],
    [0.9408121, -0.55399144, 2.0346282, -0.013895984],
]
PYTORCH_AMSGRAD = [
    [0.90000004, -0.5999999, 2.1, 0.0],
    [0.8322836, -0.6750796, 2.1669722, 0.0],
    [0.77932596, -0.73372614, 2.2187161, -0.06388135],
    [0.7665199, -0.7823229, 2.2364907, -0.1161829],
    [0.7557013, -0.82337767, 2.2515068, -0.16036752],
]
KERAS_AMSGRAD = [
    [0.900001, -0.5999677, 2.0999987, 0.0],
    [0.83228546, -0.6750464, 2.16697, 0.0],
    [0.77932817, -0.7336925, 2.2187133, -0.06388046],
    [0.7665223, -0.7822887, 2.2364876, -0.11618096],
    [0.7557038, -0.823343, 2.2515035, -0.16036472],
]
TF_LEGACY_AMSGRAD = [
    [0.90000033, -0.5999684, 2.0999994, 0.0],
    [0.83228433, -0.6750475, 2.1669712, 0.0],
    [0.7793267, -0.7336941, 2.218715, -0.06388088],
    [0.7665207, -0.7822905, 2.2364895, -0.11618173],
    [0.75570214, -0.82334507, 2.2515056, -0.16036579],
]
OPTAX_AMSGRAD = [
    [0.9000007, -0.59999925, 2.0999994, 0.0],
    [0.8521063, -0.67507815, 2.1473675, 0.0],
    [0.8215161, -0.72297436, 2.1772566, -0.06388112],
    [0.81436, -0.7573543, 2.1868234, -0.10918675],
    [0.8089514, -0.7833389, 2.194054, -0.14342901],
]
OPTAX_AMSGRAD_NO_BIAS_CORRECTION = [  # = Reddi et al. Algorithm 2 with a constant step and eps=1e-8
    [0.68377233, -0.81621778, 2.3162274, 0.0],
    [0.39600518, -1.1352756, 2.6008322, 0.0],
    [0.13385248, -1.4255897, 2.8569765, -0.31622741],
    [0.064166911, -1.6900345, 2.9536991, -0.6008321],
    [0.0014498979, -1.9280348, 3.0407495, -0.85697627],
]
PYTORCH_ADAM_L2 = [
    [0.9, -0.40000004, 2.1, 0.0],
    [0.82652915, -0.47156116, 2.1121964, 0.0],
    [0.76458997, -0.52436703, 2.088424, -0.06388135],
    [0.73797435, -0.56501544, 2.0340111, -0.11495942],
    [0.7121295, -0.5961119, 1.9727038, -0.15600994],
]
PYTORCH_ADAMW = [
    [0.89000005, -0.5949999, 2.08, 0.0],
    [0.8133531, -0.6641296, 2.126206, 0.0],
    [0.75221425, -0.7161613, 2.1567397, -0.06388135],
    [0.7318861, -0.75764024, 2.152947, -0.11557026],
    [0.7137432, -0.7911762, 2.1464412, -0.15864341],
]
KERAS_ADAM_WD = [
    [0.890001, -0.5949677, 2.0799987, 0.0],
    [0.81335497, -0.6640967, 2.1262035, 0.0],
    [0.75221646, -0.7161283, 2.1567369, -0.06388046],
    [0.7318884, -0.7576069, 2.1529438, -0.115568325],
    [0.71374565, -0.7911427, 2.146438, -0.15864064],
]
PYTORCH_ADAM_MAXIMIZE = [
    [1.1, -0.4000001, 1.9, 0.0],
    [1.167747, -0.32492045, 1.8329941, 0.0],
    [1.2207524, -0.26624748, 1.7811984, 0.06388135],
    [1.2335584, -0.21760695, 1.7634238, 0.116209075],
    [1.2443825, -0.1764946, 1.7484002, 0.16043793],
]
PYTORCH_ADAMAX = [
    [0.9, -0.5999999, 2.1, 0.0],
    [0.8520573, -0.65310514, 2.1474156, 0.0],
    [0.8214056, -0.68701726, 2.1773648, -0.036900368],
    [0.81422794, -0.7113838, 2.1869602, -0.06309696],
    [0.8087976, -0.72981864, 2.1942198, -0.08291632],
]
KERAS_ADAMAX = [
    [0.90000004, -0.599999, 2.1, 0.0],
    [0.8520574, -0.65310425, 2.1474156, 0.0],
    [0.8214057, -0.68701637, 2.1773648, -0.03690035],
    [0.81422806, -0.71138287, 2.1869602, -0.063096926],
    [0.8087977, -0.7298177, 2.1942198, -0.082916275],
]
PAPER_ADAMAX_NO_EPS_F64 = [  # coordinate 3 is 0/0 at t=1 and stays NaN
    [0.9, -0.6, 2.1, math.nan],
    [0.85205732, -0.653105263, 2.147415837, math.nan],
    [0.821405642, -0.687017404, 2.177365004, math.nan],
    [0.81422798, -0.711383938, 2.186960496, math.nan],
    [0.808797632, -0.729818738, 2.194220084, math.nan],
]
PYTORCH_ADAMAX_EPS01 = [
    [0.9090909, -0.5090909, 2.0833333, 0.0],
    [0.86550665, -0.5573684, 2.1228464, 0.0],
    [0.8376415, -0.5881976, 2.147804, -0.027675277],
    [0.8311163, -0.610349, 2.1558003, -0.047322724],
    [0.8261796, -0.6271079, 2.16185, -0.06218724],
]
KERAS_ADAMAX_EPS01 = [
    [0.90909094, -0.5090909, 2.0833333, 0.0],
    [0.86551064, -0.5573684, 2.12284, 0.0],
    [0.83765054, -0.5881948, 2.1477892, -0.02767527],
    [0.83112717, -0.61034214, 2.1557815, -0.047317795],
    [0.82619226, -0.6270965, 2.161827, -0.06217487],
]
PYTORCH_ADAMAX_L2 = [
    [0.9, -0.40000004, 2.1, 0.0],
    [0.84779465, -0.45065793, 2.1105368, 0.0],
    [0.8116345, -0.48130566, 2.0911803, -0.036900368],
    [0.7970685, -0.50190604, 2.0520558, -0.06273894],
    [0.78427184, -0.516211, 2.010195, -0.081775725],
]
TF_LEGACY_ADAMAX_LAZY = [
    [0.90000004, -0.599999, 2.1, 0.0],
    [0.85205734, -0.65310425, 2.1, 0.0],
    [0.82140565, -0.68701637, 2.1, -0.036900353],
    [0.814228, -0.7113829, 2.1145535, -0.036900353],
    [0.814228, -0.7113829, 2.1145535, -0.036900353],
]
TF_LEGACY_ADAM_DECAY = [
    [0.90000033, -0.5999684, 2.0999994, 0.0],  # lr/(1 + decay*0) = lr: the plain TF legacy Adam row
    [0.854836, -0.65002114, 2.1446695, 0.0],
    [0.8283333, -0.6793576, 2.1705673, -0.03194044],
    [0.82321095, -0.6988137, 2.1776772, -0.052871246],
    [0.81960297, -0.71251774, 2.182685, -0.06761401],
]
KERAS_ACCUMULATE_2 = [
    [1.0, -0.5, 2.0, 0.0],
    [0.9000013, -0.5999987, 2.099998, 0.0],
    [0.9000013, -0.5999987, 2.099998, 0.0],
    [0.8722159, -0.66846424, 2.1345577, -0.07441137],
    [0.8722159, -0.66846424, 2.1345577, -0.07441137],
]
KERAS_EMA = [
    [0.900001, -0.5999677, 2.0999987, 0.0],
    [0.86612797, -0.6375071, 2.133501, 0.0],
    [0.813123, -0.6961796, 2.1852963, -0.06388046],
    [0.8199713, -0.7058314, 2.1812346, -0.07407368],
    [0.8091474, -0.74694324, 2.196258, -0.118301675],
]
KERAS_CLIPNORM = [
    [0.90000135, -0.5999287, 2.099998, 0.0],
    [0.8321686, -0.6749371, 2.1670022, 0.0],
    [0.778317, -0.7341857, 2.218797, -0.06388046],
    [0.7896028, -0.78378946, 2.214262, -0.11620713],
    [0.79914194, -0.82571596, 2.210429, -0.16043513],
]
KERAS_LOSS_SCALE = [
    [0.90000194, -0.599873, 2.0999968, 0.0],
    [0.83225656, -0.67495096, 2.1670003, 0.0],
    [0.77925205, -0.73362297, 2.2187946, -0.06387844],
    [0.7664463, -0.78226244, 2.2365687, -0.11620346],
    [0.7556225, -0.8233739, 2.251592, -0.16043006],
]

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
     "MindSpore 2.10.0 experimental Adamax has PyTorch's formula (ref. §7.1); numbers: PyTorch 2.13.0 Adamax"),
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
    """§10.3 [RUN] tables: X0 = [1, -0.5, 2, 0], five gradient rows, float32, lr 0.1; each convention
    (with the framework's keywords) must reproduce that framework's parameter after every step
    (rtol 2e-6, atol 1e-6; `source` names the framework and version that printed the numbers)."""
    np.testing.assert_allclose(trajectory(make, G, device, X0), np.array(expected), **F32, err_msg=source)


def test_scenario_tf_legacy_lazy_sparse_adamax(device):
    """§10.3 [RUN]: tf_keras 2.21.0 legacy Adamax(0.1) fed IndexedSlices whose indices are the non-zero
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
    """§10.3 [RUN] eps = 0.1 rows (first and last step) for the frameworks whose full tables are not
    printed: a large eps makes Algorithm 1 (eps outside sqrt(v_hat)) and the epsilon-hat form diverge."""
    _, name, kwargs, convention, row1, row5, source = case
    cls = getattr(optim, name)
    rows = trajectory(lambda p: cls(p, lr=0.1, convention=convention, **kwargs), G, device, X0)
    if row1 is not None:
        np.testing.assert_allclose(rows[0], row1, **F32, err_msg=source)
    np.testing.assert_allclose(rows[4], row5, **F32, err_msg=source)


@pytest.mark.parametrize("make, expected", [
    (lambda p: optim.Adam(p, lr=0.1, convention="paper"), PAPER_ALG1_F64),
    (lambda p: optim.Adam(p, lr=0.1, convention="keras", epsilon_mode="epsilon_hat", eps=1e-7),
     EFFICIENT_EPS_HAT_F64),
    (lambda p: optim.Adam(p, lr=0.1, convention="pytorch", epsilon_mode="epsilon_hat", eps=1e-7),
     EFFICIENT_EPS_HAT_F64),
    (lambda p: optim.Adam(p, lr=0.1, convention="keras", epsilon_mode="algorithm1", eps=1e-8), PAPER_ALG1_F64),
], ids=["paper-alg1", "keras-eps-hat", "pytorch+epsilon_hat", "keras+algorithm1"])
def test_scenario_float64_references(device, make, expected):
    """§10.3 float64 references: Kingma & Ba Algorithm 1 (eps 1e-8) and the Section 2 efficient form with a
    constant eps_hat = 1e-7, printed to 9 decimals. An explicit ``epsilon_mode`` overrides the convention's."""
    rows = trajectory(make, G, device, X0, dtype=np.float64)
    np.testing.assert_allclose(rows, np.array(expected), **F64_TABLE)


def test_scenario_paper_adamax_without_eps_is_algorithm2(device):
    """§10.3 float64 reference of Kingma & Ba Algorithm 2 with no epsilon: coordinate 3 starts with zero
    gradients, so m/u = 0/0 is NaN (and stays NaN); ``eps=0`` gives the box literally."""
    with np.errstate(invalid="ignore", divide="ignore"):
        rows = trajectory(lambda p: optim.Adamax(p, lr=0.1, eps=0.0, convention="paper"), G, device, X0,
                          dtype=np.float64)
    np.testing.assert_allclose(rows, np.array(PAPER_ADAMAX_NO_EPS_F64), rtol=0, atol=1e-8, equal_nan=True)
    assert np.isnan(rows[:, 3]).all()


# --------------------------------------------------------------------------- defaults of every convention
# (adam lr, adamax lr, betas, adam eps, adamax eps) -- ref. §9 table and §3-§7.
EXPECTED_DEFAULTS = {
    "paper": (1e-3, 2e-3, (0.9, 0.999), 1e-8, 1e-8),  # Kingma & Ba 2015, Algorithms 1 and 2
    "pytorch": (1e-3, 2e-3, (0.9, 0.999), 1e-8, 1e-8),  # PyTorch 2.13.0
    "keras": (1e-3, 1e-3, (0.9, 0.999), 1e-7, 1e-7),  # Keras 3.15.1
    "tensorflow": (1e-3, 1e-3, (0.9, 0.999), 1e-7, 1e-7),  # tf_keras 2.21.0 legacy
    "optax": (None, None, (0.9, 0.999), 1e-8, 1e-8),  # Optax 0.2.8: learning_rate has no default
    "mindspore": (1e-3, 2e-3, (0.9, 0.999), 1e-8, 1e-8),  # MindSpore 2.10.0 experimental
}
# epsilon_mode, amsgrad_mode, adamax_epsilon, step_counting, decoupled weight decay, power dtype (ref. §9).
# Precision of 1 - b^t: Keras 3.15.1 and Optax 0.2.8 match float32 powers, PyTorch 2.13.0, tf_keras 2.21.0 legacy
# and MindSpore 2.10.0 match double-precision ones (tests/reference/README.md, "Precision of the bias corrections").
EXPECTED_CHOICES = {
    "paper": ("algorithm1", "no_bias_correction", "denominator", "global", False, None),
    "pytorch": ("algorithm1", "max_raw_v", "inside_max", "per_parameter", False, None),
    "keras": ("epsilon_hat", "max_raw_v", "denominator", "global", True, "param"),
    "tensorflow": ("epsilon_hat", "max_raw_v", "denominator", "global", True, None),
    "optax": ("algorithm1", "max_corrected_v", "inside_max", "global", True, "float32"),
    "mindspore": ("epsilon_hat", "ignored", "inside_max", "global", False, None),
}


@pytest.mark.parametrize("convention", sorted(EXPECTED_DEFAULTS))
def test_convention_defaults(device, convention):
    """Defaults per convention (ref. §9): e.g. Keras 3.15.1 Adamax lr 1e-3 and eps 1e-7, PyTorch 2.13.0
    Adamax lr 2e-3, Optax 0.2.8 none (lr required); and each convention's formula choices."""
    adam_lr, adamax_lr, betas, adam_eps, adamax_eps = EXPECTED_DEFAULTS[convention]
    eps_mode, ams_mode, adamax_epsilon, counting, decoupled, _ = EXPECTED_CHOICES[convention]
    x = param([1.0], device)
    lr = {} if adam_lr is not None else {"lr": 0.5}
    adam = optim.Adam([x], convention=convention, **lr)
    assert adam.defaults["lr"] == (adam_lr if adam_lr is not None else 0.5)
    assert tuple(adam.defaults["betas"]) == betas
    assert adam.defaults["eps"] == adam_eps
    assert adam.defaults["epsilon_mode"] == eps_mode
    assert adam.defaults["amsgrad_mode"] == ams_mode
    assert adam.defaults["step_counting"] == counting
    assert adam.defaults["decoupled_weight_decay"] is decoupled
    adamax = optim.Adamax([x], convention=convention, **lr)
    assert adamax.defaults["lr"] == (adamax_lr if adamax_lr is not None else 0.5)
    assert tuple(adamax.defaults["betas"]) == betas
    assert adamax.defaults["eps"] == adamax_eps
    assert adamax.defaults["adamax_epsilon"] == adamax_epsilon
    assert adamax.defaults["decoupled_weight_decay"] is decoupled
    amsgrad = optim.AMSGrad([x], convention=convention, **lr)
    assert amsgrad.defaults["lr"] == adam.defaults["lr"] and amsgrad.defaults["eps"] == adam_eps


def _bias(beta, t, power):
    """1 - beta^t in double, or in float32 for the conventions that compute it so (Optax; Keras on float32)."""
    if power == "float32":
        return float(np.float32(1) - np.float32(beta) ** np.float32(t))
    return 1.0 - beta**t


@pytest.mark.parametrize("convention", sorted(EXPECTED_DEFAULTS))
def test_default_lr_and_eps_drive_the_first_step(device, convention):
    """One float64 step from zero state with the defaults, against Kingma & Ba's formulas at t = 1:
    Algorithm 1 x - lr (m/(1-b1)) / (sqrt(v/(1-b2)) + eps), or the efficient form
    x - lr sqrt(1-b2)/(1-b1) m / (sqrt(v) + eps_hat); Adamax x - lr/(1-b1) m/(|g| + eps). The gradient
    3e-8 is below eps, so the step shows which eps (1e-8 or 1e-7) and which placement is used."""
    adam_lr, adamax_lr, (b1, b2), adam_eps, adamax_eps = EXPECTED_DEFAULTS[convention]
    eps_mode, *_, power = EXPECTED_CHOICES[convention]
    adam_lr, adamax_lr = adam_lr or 0.5, adamax_lr or 0.5
    x0, g = np.array([1.0, -2.0, 0.5]), np.array([3e-8, 0.25, -4.0])
    bc1, bc2 = _bias(b1, 1, power), _bias(b2, 1, power)
    m, v = (1 - b1) * g, (1 - b2) * g * g
    if eps_mode == "algorithm1":
        expected_adam = x0 - adam_lr * (m / bc1) / (np.sqrt(v / bc2) + adam_eps)
    else:
        expected_adam = x0 - adam_lr * math.sqrt(bc2) / bc1 * m / (np.sqrt(v) + adam_eps)
    expected_adamax = x0 - adamax_lr / bc1 * m / (np.abs(g) + adamax_eps)
    lr = {} if EXPECTED_DEFAULTS[convention][0] is not None else {"lr": 0.5}
    for cls, expected in ((optim.Adam, expected_adam), (optim.Adamax, expected_adamax)):
        x = param(x0, device, np.float64)
        cls([x], convention=convention, **lr).apply_gradients([(dev(g, device), x)])
        np.testing.assert_allclose(host(x.data), expected, rtol=1e-13, atol=0, err_msg=cls.__name__)


@pytest.mark.parametrize("cls", [optim.Adam, optim.AMSGrad, optim.Adamax])
def test_optax_requires_lr(device, cls):
    """Optax 0.2.8: optax.adam / amsgrad / adamax take learning_rate with no default, so the optax
    convention has none: omitting lr is a ValueError naming lr."""
    x = param([1.0], device)
    with pytest.raises(ValueError, match="lr"):
        cls([x], convention="optax")
    assert cls([x], lr=0.01, convention="optax").defaults["lr"] == 0.01


def test_unknown_convention_is_named(device):
    """A convention that does not exist: ValueError naming the argument and the value."""
    x = param([1.0], device)
    for cls in (optim.Adam, optim.Adamax, optim.AMSGrad):
        with pytest.raises(ValueError, match=r"convention.*'jax'"):
            cls([x], convention="jax")


# --------------------------------------------------------------------------- identities between the choices
def _random_grads(seed, steps, shape, scale=1.0):
    rng = np.random.default_rng(seed)
    grads = rng.standard_normal((steps, *shape)) * scale
    grads[3] *= 10.0  # a spike, so the AMSGrad maximum differs from v
    return grads


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("eps_hat", [1e-7, 0.1])
def test_epsilon_hat_is_algorithm1_with_time_varying_eps(device, amsgrad, eps_hat):
    """Kingma & Ba, Section 2: the efficient form with a constant eps_hat (Keras 3 / TF) equals Algorithm 1
    with eps_t = eps_hat / sqrt(1 - b2^t) (ref. §9, verified there with the frameworks). With AMSGrad,
    Keras and PyTorch both take the max of the raw v, so the same substitution holds. The Algorithm 1
    side is computed step by step with optim.functional.adam_update and a per-step eps."""
    grads = _random_grads(1, 12, (5,), scale=0.3)
    b1, b2, lr = 0.9, 0.999, 0.05
    x = param(np.linspace(-1, 1, 5), device, np.float64)
    opt = optim.Adam([x], lr=lr, eps=eps_hat, amsgrad=amsgrad, convention="keras")
    ref_param = np.linspace(-1, 1, 5)
    m, v, v_max = np.zeros(5), np.zeros(5), np.zeros(5)
    for t, g in enumerate(grads, start=1):
        opt.apply_gradients([(dev(g, device), x)])
        functional.adam_update(ref_param, g.copy(), m, v, v_max, step=t, lr=lr, beta1=b1, beta2=b2,
                               eps=eps_hat / math.sqrt(1 - b2**t), epsilon_mode="algorithm1",
                               amsgrad_mode="max_raw_v" if amsgrad else None)
        np.testing.assert_allclose(host(x.data), ref_param, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_pytorch_eps_is_keras_with_eps_hat_t(device, amsgrad):
    """The converse of the identity above (ref. §9, = tf_keras 2.21.0 ``adaptive_epsilon=True``): PyTorch's
    Algorithm 1 with eps equals the efficient form with eps_hat_t = eps sqrt(1 - b2^t), computed step by
    step with optim.functional.adam_update in epsilon_hat mode."""
    grads = _random_grads(2, 12, (4,), scale=0.2)
    b1, b2, lr, eps = 0.9, 0.999, 0.02, 0.05
    x = param(np.ones(4), device, np.float64)
    opt = optim.Adam([x], lr=lr, eps=eps, amsgrad=amsgrad, convention="pytorch")
    ref_param, m, v, v_max = np.ones(4), np.zeros(4), np.zeros(4), np.zeros(4)
    for t, g in enumerate(grads, start=1):
        opt.apply_gradients([(dev(g, device), x)])
        functional.adam_update(ref_param, g.copy(), m, v, v_max, step=t, lr=lr, beta1=b1, beta2=b2,
                               eps=eps * math.sqrt(1 - b2**t), epsilon_mode="epsilon_hat",
                               amsgrad_mode="max_raw_v" if amsgrad else None)
        np.testing.assert_allclose(host(x.data), ref_param, rtol=1e-12, atol=1e-14)


def test_adamax_epsilon_placements_coincide_only_without_eps(device):
    """Adamax: u = max(b2 u, |g| + eps) with m/u (PyTorch) and u = max(b2 u, |g|) with m/(u + eps)
    (Keras/TF) are the same when eps = 0 (ref. §9); with eps = 0.1 they differ. Hand check at t = 2 of the
    scenario, coordinate 0 (g = 1 then 0.01, lr 0.1): x1 = 1 - 0.1*0.1/(0.1*1.1);
    inside: u2 = max(0.999*1.1, 0.11), denominator: u2 = max(0.999, 0.01) + 0.1; x2 = x1 - 0.1/0.19 * 0.091/u2."""
    grads = np.abs(_random_grads(3, 10, (6,))) + 0.01  # non-zero everywhere: no 0/0 without eps

    def run(mode, eps, rows=grads, x0=None, dtype=np.float64):
        x0 = np.zeros(6) if x0 is None else x0
        return trajectory(lambda p: optim.Adamax(p, lr=0.1, eps=eps, adamax_epsilon=mode), rows, device, x0, dtype)

    np.testing.assert_array_equal(run("inside_max", 0.0), run("denominator", 0.0))
    inside, denominator = run("inside_max", 0.1, G, X0), run("denominator", 0.1, G, X0)
    x1 = 1 - 0.1 * 0.1 / (0.1 * 1.1)
    m2, bc2 = 0.9 * 0.1 + 0.1 * 0.01, 1 - 0.9**2
    assert inside[1, 0] == pytest.approx(x1 - 0.1 / bc2 * m2 / max(0.999 * 1.1, 0.11), rel=1e-13)
    assert denominator[1, 0] == pytest.approx(x1 - 0.1 / bc2 * m2 / (max(0.999, 0.01) + 0.1), rel=1e-13)
    assert abs(inside[1, 0] - denominator[1, 0]) > 1e-6


def test_mindspore_ignores_amsgrad(device):
    """MindSpore 2.10.0 experimental Adam ignores amsgrad=True (ref. §7.2 / conventions): under the
    mindspore convention AMSGrad's trajectory is plain Adam's, bit for bit, on a run where the max matters;
    an explicit amsgrad_mode turns it back on."""
    grads = _random_grads(4, 10, (5,))
    plain = trajectory(lambda p: optim.Adam(p, lr=0.1, convention="mindspore"), grads, device, np.zeros(5))
    ams = trajectory(lambda p: optim.Adam(p, lr=0.1, amsgrad=True, convention="mindspore"), grads, device, np.zeros(5))
    cls = trajectory(lambda p: optim.AMSGrad(p, lr=0.1, convention="mindspore"), grads, device, np.zeros(5))
    np.testing.assert_array_equal(ams, plain)
    np.testing.assert_array_equal(cls, plain)
    on = trajectory(lambda p: optim.AMSGrad(p, lr=0.1, convention="mindspore", amsgrad_mode="max_raw_v"),
                    grads, device, np.zeros(5))
    assert not np.array_equal(on, plain)


def test_mindspore_adam_is_the_epsilon_hat_form(device):
    """MindSpore 2.10.0 experimental Adam calls ops.Adam, whose documented formula is the epsilon-hat form
    (ref. §7.2, confirmed by the real runs in tests/reference/README.md): x -= lr sqrt(1-b2^t)/(1-b1^t)
    m/(sqrt(v) + eps), with eps 1e-8 and double-precision beta powers. Hand recurrence in float64, three steps."""
    grads = [np.array([0.3, -1e-9]), np.array([0.1, 2e-9]), np.array([-0.2, 0.0])]
    x = param([0.5, 0.5], device, np.float64)
    opt = optim.Adam([x], convention="mindspore")
    ref_x, m, v = np.array([0.5, 0.5]), np.zeros(2), np.zeros(2)
    for t, g in enumerate(grads, start=1):
        opt.apply_gradients([(dev(g, device), x)])
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        alpha_t = 1e-3 * math.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        ref_x = ref_x - alpha_t * m / (np.sqrt(v) + 1e-8)
        np.testing.assert_allclose(host(x.data), ref_x, rtol=1e-14, atol=1e-17)


# --------------------------------------------------------------------------- explicit keywords override
OVERRIDES = [
    ("keras+algorithm1 == pytorch eps 1e-7",
     lambda p: optim.Adam(p, lr=0.1, convention="keras", epsilon_mode="algorithm1", power_dtype=None),
     lambda p: optim.Adam(p, lr=0.1, eps=1e-7, convention="pytorch")),
    ("pytorch+epsilon_hat == keras",
     lambda p: optim.Adam(p, lr=0.1, eps=1e-7, convention="pytorch", epsilon_mode="epsilon_hat", power_dtype="param"),
     lambda p: optim.Adam(p, lr=0.1, convention="keras")),
    ("optax+max_raw_v == pytorch amsgrad",
     lambda p: optim.AMSGrad(p, lr=0.1, convention="optax", amsgrad_mode="max_raw_v", power_dtype=None),
     lambda p: optim.AMSGrad(p, lr=0.1, convention="pytorch")),
    ("pytorch+max_corrected_v == optax amsgrad",
     lambda p: optim.AMSGrad(p, lr=0.1, convention="pytorch", amsgrad_mode="max_corrected_v", power_dtype="float32"),
     lambda p: optim.AMSGrad(p, lr=0.1, convention="optax")),
    ("keras+inside_max == pytorch adamax eps 1e-7",
     lambda p: optim.Adamax(p, lr=0.1, convention="keras", adamax_epsilon="inside_max", power_dtype=None),
     lambda p: optim.Adamax(p, lr=0.1, eps=1e-7, convention="pytorch")),
    ("pytorch+denominator == tensorflow adamax",
     lambda p: optim.Adamax(p, lr=0.1, eps=1e-7, convention="pytorch", adamax_epsilon="denominator"),
     lambda p: optim.Adamax(p, lr=0.1, convention="tensorflow")),
    ("keras L2 == mindspore-like L2",
     lambda p: optim.Adam(p, lr=0.1, weight_decay=0.1, eps=1e-8, convention="keras", decoupled_weight_decay=False,
                          power_dtype=None),
     lambda p: optim.Adam(p, lr=0.1, weight_decay=0.1, convention="mindspore")),
    ("mindspore+max_raw_v == keras amsgrad eps 1e-8",
     lambda p: optim.AMSGrad(p, lr=0.1, convention="mindspore", amsgrad_mode="max_raw_v", power_dtype="param"),
     lambda p: optim.AMSGrad(p, lr=0.1, eps=1e-8, convention="keras")),
]


@pytest.mark.parametrize("left, right", [o[1:] for o in OVERRIDES], ids=[o[0] for o in OVERRIDES])
def test_explicit_choice_overrides_the_convention(device, left, right):
    """Each formula choice is a keyword: a convention with one choice changed is the convention that makes
    that choice (same formulas, same eps, same power precision), so the trajectories are identical."""
    grads = _random_grads(5, 8, (2, 3), scale=0.5)
    np.testing.assert_array_equal(trajectory(left, grads, device, np.ones((2, 3))),
                                  trajectory(right, grads, device, np.ones((2, 3))))


@pytest.mark.parametrize("make, expected, source", [
    (lambda p: optim.Adam(p, lr=0.1, convention="keras", epsilon_mode="algorithm1", eps=1e-8, power_dtype=None),
     PYTORCH_ADAM, "PyTorch 2.13.0 Adam(lr=0.1)"),
    (lambda p: optim.Adam(p, lr=0.1, convention="pytorch", decoupled_weight_decay=True, weight_decay=0.1),
     PYTORCH_ADAMW, "PyTorch 2.13.0 AdamW(lr=0.1, weight_decay=0.1)"),
    (lambda p: optim.Adam(p, lr=0.1, convention="keras", decoupled_weight_decay=False, weight_decay=0.1,
                          epsilon_mode="algorithm1", eps=1e-8), PYTORCH_ADAM_L2,
     "PyTorch 2.13.0 Adam(lr=0.1, weight_decay=0.1)"),
    (lambda p: optim.AMSGrad(p, lr=0.1, convention="optax", amsgrad_mode="max_raw_v"), PYTORCH_AMSGRAD,
     "PyTorch 2.13.0 Adam(lr=0.1, amsgrad=True)"),
    (lambda p: optim.AMSGrad(p, lr=0.1, convention="pytorch", amsgrad_mode="max_corrected_v"), OPTAX_AMSGRAD,
     "Optax 0.2.8 amsgrad(0.1)"),
    (lambda p: optim.Adamax(p, lr=0.1, eps=0.1, convention="keras", adamax_epsilon="inside_max"),
     PYTORCH_ADAMAX_EPS01, "PyTorch 2.13.0 Adamax(lr=0.1, eps=0.1)"),
    (lambda p: optim.Adamax(p, lr=0.1, eps=0.1, convention="pytorch", adamax_epsilon="denominator"),
     KERAS_ADAMAX_EPS01, "Keras 3.15.1 Adamax(0.1, epsilon=0.1)"),
    (lambda p: optim.Adam(p, lr=0.1, eps=0.1, convention="pytorch", epsilon_mode="epsilon_hat"),
     KERAS_ADAM_EPS01, "Keras 3.15.1 Adam(0.1, epsilon=0.1)"),
], ids=["keras->alg1", "pytorch->adamw", "keras->l2", "optax->max_raw_v", "pytorch->max_corrected_v",
        "keras->inside_max", "pytorch->denominator", "pytorch->epsilon_hat"])
def test_overridden_convention_matches_the_other_framework(device, make, expected, source):
    """A convention with one keyword changed reproduces the framework that makes that choice (§10.3 [RUN]
    numbers, float32, rtol 2e-6 / atol 1e-6; the beta-power precision difference is inside it)."""
    np.testing.assert_allclose(trajectory(make, G, device, X0), np.array(expected), **F32, err_msg=source)


def test_step_counting_keyword(device):
    """PyTorch 2.13.0 counts t per parameter (state['step']), the other frameworks once per optimizer. A
    parameter without a gradient at the first call gets its first update at t = 1 (per_parameter:
    x - lr g/(|g| + eps)) or at t = 2 (global: Algorithm 1 with m_hat = 0.1 g/(1-0.9^2),
    v_hat = 0.001 g^2/(1-0.999^2)); step_counting="global" overrides the pytorch convention."""
    lr, eps, g = 0.1, 1e-8, 0.5
    per_param = 1.0 - lr * g / (abs(g) + eps)
    m_hat, v_hat = 0.1 * g / (1 - 0.9**2), 0.001 * g * g / (1 - 0.999**2)
    global_t = 1.0 - lr * m_hat / (math.sqrt(v_hat) + eps)
    for counting, expected in ((None, per_param), ("per_parameter", per_param), ("global", global_t)):
        a, b = param([1.0], device, np.float64), param([1.0], device, np.float64)
        kwargs = {} if counting is None else {"step_counting": counting}
        opt = optim.Adam([a, b], lr=lr, convention="pytorch", **kwargs)
        opt.apply_gradients([(dev([0.3], device), a)])
        opt.apply_gradients([(dev([0.3], device), a), (dev([g], device), b)])
        assert host(b.data)[0] == pytest.approx(expected, rel=1e-13), counting
    assert not math.isclose(per_param, global_t, rel_tol=1e-6)


def test_power_dtype_keyword(device):
    """power_dtype: 1 - b^t in double (PyTorch 2.13.0) or in float32 (Optax 0.2.8 computes decay**count in
    float32): float32(1) - float32(0.999) = 1.00004673e-3 is not 1e-3 (ref. §4.1 note, §6). One float64 Adam
    step (epsilon_hat form, eps 0) shows the precision of both corrections: x - lr sqrt(bc2)/bc1 sign(g)."""
    bc1_32 = float(np.float32(1) - np.float32(0.9))
    bc2_32 = float(np.float32(1) - np.float32(0.999))
    assert bc2_32 != pytest.approx(1e-3, rel=1e-6)
    for power, bc1, bc2 in ((None, 1 - 0.9, 1 - 0.999), ("float32", bc1_32, bc2_32), ("param", 1 - 0.9, 1 - 0.999)):
        x = param([0.0], device, np.float64)
        opt = optim.Adam([x], lr=1.0, eps=0.0, epsilon_mode="epsilon_hat", power_dtype=power)
        opt.apply_gradients([(dev([2.0], device), x)])
        expected = -math.sqrt(bc2) / bc1 * (0.1 * 2.0) / math.sqrt(0.001 * 4.0)
        assert host(x.data)[0] == pytest.approx(expected, rel=1e-13), power
    assert functional.bias_correction(0.999, 1, "float32") == bc2_32
    assert functional.bias_correction(0.999, 1, "param", np.float32) == bc2_32
    assert functional.bias_correction(0.999, 3, None) == pytest.approx(1 - 0.999**3, rel=1e-15)


@pytest.mark.parametrize("convention, decoupled", [("paper", False), ("pytorch", False), ("keras", True),
                                                   ("tensorflow", True), ("optax", True), ("mindspore", False)])
@pytest.mark.parametrize("cls", [optim.Adam, optim.Adamax])
def test_weight_decay_meaning_per_convention(device, cls, convention, decoupled):
    """weight_decay is decoupled in Keras 3.15.1 (x -= x wd lr before the step) and Optax 0.2.8 adamw
    (same), an L2 term g += wd x in PyTorch 2.13.0 and MindSpore 2.10.0 (ref. §9). With a zero gradient a
    decoupled step is exactly x (1 - lr wd); an L2 step is a full Adam step on g = wd x (|step| ~ lr)."""
    x = param([2.0], device, np.float64)
    opt = cls([x], lr=0.1, weight_decay=0.1, convention=convention)
    opt.apply_gradients([(dev([0.0], device), x)])
    if decoupled:
        assert host(x.data)[0] == pytest.approx(2.0 * (1 - 0.1 * 0.1), rel=1e-15)
    else:
        assert host(x.data)[0] == pytest.approx(2.0 - 0.1, rel=1e-6)


# --------------------------------------------------------------------------- Keras 3.15.1 golden tests (§10.1)
GOLDEN_GRADS = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.70000005, 0.8, 0.90000004, 1.0], dtype=np.float32)
KERAS_GOLDEN_AMSGRAD = [
    [0.9990003] * 10,
    [0.99819326, 0.99822366, 0.9982343, 0.9982397, 0.9982429, 0.9982451, 0.99824667, 0.99824786, 0.9982488, 0.99824953],
    [0.99730045, 0.9973475, 0.99736387, 0.9973722, 0.9973772, 0.9973806, 0.99738306, 0.99738485, 0.99738634, 0.9973874],
    [0.9963679, 0.9964259, 0.9964462, 0.9964565, 0.9964627, 0.9964669, 0.9964699, 0.9964721, 0.99647397, 0.9964753],
    [0.9954125, 0.99547863, 0.9955017, 0.99551344, 0.99552053,
     0.99552524, 0.9955287, 0.99553126, 0.99553335, 0.99553484],
]
KERAS_GOLDEN_ADAMAX = [
    [0.80002] * 10,
    [0.6827238, 0.68731785, 0.68884915, 0.68961483, 0.6900742,
     0.6903805, 0.69059926, 0.69076335, 0.69089097, 0.6909931],
    [0.5332792, 0.540681, 0.5431483, 0.5443819, 0.5451221, 0.54561555, 0.54596806, 0.5462324, 0.546438, 0.5466025],
    [0.3679703, 0.37729847, 0.38040793, 0.3819626, 0.3828954, 0.3835173, 0.38396156, 0.3842947, 0.38455376, 0.38476107],
    [0.1933078, 0.20404264, 0.207621, 0.20941012, 0.2104836, 0.21119925, 0.21171053, 0.21209386, 0.212392, 0.21263057],
]
GOLDEN_TOL = {"rtol": 0.0, "atol": 3e-7}  # ~5 float32 ulps at 1.0


@pytest.mark.parametrize("make, expected", [
    (lambda: optim.Adam(amsgrad=True, convention="keras"), KERAS_GOLDEN_AMSGRAD),
    (lambda: optim.AMSGrad(convention="keras"), KERAS_GOLDEN_AMSGRAD),
    (lambda: optim.Adamax(lr=0.2, betas=(0.85, 0.95), eps=1e-6, convention="keras"), KERAS_GOLDEN_ADAMAX),
], ids=["adam-amsgrad", "amsgrad-class", "adamax"])
def test_keras_golden(device, make, expected):
    """keras/src/optimizers/{adam,adamax}_test.py test_correctness_with_golden (Keras 3.15.1): x = ones(10)
    float32, one step with 0.01 everywhere, then four with arange(0.1, 1.1, 0.1); the rows are the
    full-precision outputs of the real Keras 3.15.1 (JAX backend), ref. §10.1, matched to ~5 ulps."""
    x = param(np.ones(10), device)
    opt = make()  # params=None: bound at the first apply_gradients (Keras style)
    opt.apply_gradients([(dev(np.full(10, 0.01, np.float32), device), x)])
    for i in range(5):
        np.testing.assert_allclose(host(x.data), np.array(expected[i], dtype=np.float32), **GOLDEN_TOL,
                                   err_msg=f"row {i}")
        opt.apply_gradients([(dev(GOLDEN_GRADS, device), x)])


@pytest.mark.parametrize("cls, expected", [
    (optim.Adam, [0.50000495, 1.5000036, 2.5000036, 3.500004]),
    (optim.Adamax, [0.5000002, 1.5000001, 2.5, 3.5]),
], ids=["adam", "adamax"])
def test_keras_single_step(device, cls, expected):
    """test_single_step of Keras 3.15.1 with its full-precision output (ref. §10.1): lr 0.5,
    grads [1, 6, 7, 2], vars [1, 2, 3, 4], float32."""
    x = param([1.0, 2.0, 3.0, 4.0], device)
    cls(lr=0.5, convention="keras").apply_gradients([(dev(np.array([1.0, 6.0, 7.0, 2.0], np.float32), device), x)])
    np.testing.assert_allclose(host(x.data), np.array(expected, np.float32), rtol=0, atol=3e-7)


@pytest.mark.parametrize("cls", [optim.Adam, optim.Adamax])
def test_keras_weight_decay_and_exclusions(device, cls):
    """test_weight_decay of Keras 3.15.1 (ref. §10.1): three optimizers (lr 1.0, weight_decay 0.004, zero
    gradient) each decay var1 once: 2 * 0.996^3 = 1.9760959; var2 is excluded by name (var_names=["exclude"],
    a regex searched in the name given through named params) and var3 by var_list, so both stay 2.0."""
    zero = dev(np.zeros((), np.float32), device)
    var1, var2, var3 = (mg.tensor(np.float32(2.0), requires_grad=True, device=device) for _ in range(3))
    opt1 = cls(lr=1.0, weight_decay=0.004, convention="keras")
    opt1.apply_gradients([(zero, var1)])
    opt2 = cls([("var1", var1), ("exclude", var2)], lr=1.0, weight_decay=0.004, convention="keras")
    opt2.exclude_from_weight_decay(var_names=["exclude"])
    opt2.apply_gradients([(zero, var1), (zero, var2)])
    opt3 = cls([var1, var3], lr=1.0, weight_decay=0.004, convention="keras")
    opt3.exclude_from_weight_decay(var_list=[var3])
    opt3.apply_gradients([(zero, var1), (zero, var3)])
    assert float(host(var1.data)) == pytest.approx(1.9760959148406982, abs=1e-6)
    assert float(host(var1.data)) == pytest.approx(2 * 0.996**3, abs=1e-6)
    assert float(host(var2.data)) == 2.0
    assert float(host(var3.data)) == 2.0


def test_keras_weight_decay_single_step(device):
    """Keras 3.15.1 Adam(0.1, weight_decay=0.1), x = 1, g = 0.5, one step: 0.8900013 (ref. §10.1 [RUN]):
    x (1 - 0.1*0.1) = 0.99, then an Adam step of about -0.1."""
    x = param([1.0], device)
    optim.Adam([x], lr=0.1, weight_decay=0.1, convention="keras").apply_gradients([(dev(np.float32([0.5]), device), x)])
    assert host(x.data)[0] == pytest.approx(0.8900013, abs=1e-7)


@pytest.mark.parametrize("kwargs, grads, expected", [
    ({"clipnorm": 1.0}, [[100.0, 100.0]], [[0.7071068, 0.7071068]]),
    ({"clipvalue": 1.0}, [[100.0, 100.0]], [[1.0, 1.0]]),
    ({"global_clipnorm": 1.0}, [[3.0, 4.0], [12.0]], [[0.23076925, 0.30769232], [0.923077]]),
], ids=["clipnorm", "clipvalue", "global_clipnorm"])
def test_keras_clipping_values(device, kwargs, grads, expected):
    """Keras 3.15.1 test_clip_norm / test_clip_value outputs and global_clipnorm=1 on [3, 4], [12] (global
    norm 13) (ref. §10.1 [RUN]). The clipped gradient is read from SGD(lr=1) on zero parameters: x = -g_clipped."""
    xs = [param(np.zeros(len(g)), device) for g in grads]
    opt = optim.SGD(xs, lr=1.0, **kwargs)
    opt.apply_gradients([(dev(np.array(g, np.float32), device), x) for g, x in zip(grads, xs)])
    for x, e in zip(xs, expected):
        np.testing.assert_allclose(-host(x.data), np.array(e, np.float32), rtol=1e-6, atol=0)


# --------------------------------------------------------------------------- tf_keras 2.21.0 legacy fixtures (§10.2)
TF_ADAM_BASIC = [
    ([0.9990000316, 1.9990000316], [2.9990003161, 3.9990003161]),
    ([0.998000054, 1.998000054], [2.9980005397, 3.9980005397]),
    ([0.9970000723, 1.9970000723], [2.9970007224, 3.9970007224]),
]
TF_ADAM_DECAY = [
    ([0.9990000316, 1.9990000316], [2.9990003161, 3.9990003161]),
    ([0.9983333799, 1.9983333799], [2.9983337985, 3.9983337985]),
    ([0.997833389, 1.997833389], [2.9978338899, 3.9978338899]),
]
TF_ADAMAX_BASIC = [
    ([0.9990000001, 1.9990000001], [2.999000001, 3.999000001]),
    ([0.9980000002, 1.9980000002], [2.998000002, 3.998000002]),
    ([0.9970000003, 1.9970000003], [2.997000003, 3.997000003]),
]
TF_ADAMAX_SPARSE = [
    ([0.9990000001, 1.9990000001, 3.0], [4.0, 4.999000001, 5.999000001]),
    ([0.9980000002, 1.9980000002, 3.0], [4.0, 4.998000002, 5.998000002]),
    ([0.9970000003, 1.9970000003, 3.0], [4.0, 4.997000003, 5.997000003]),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make, expected", [
    (lambda p: optim.Adam(p, lr=0.001, convention="tensorflow"), TF_ADAM_BASIC),
    (lambda p: optim.Adam(p, lr=0.001, decay=0.5, convention="tensorflow"), TF_ADAM_DECAY),
    (lambda p: optim.Adam(p, lr=optim.schedules.InverseTimeDecay(0.001, decay_steps=1.0, decay_rate=0.5),
                          convention="tensorflow"), TF_ADAM_DECAY),
    (lambda p: optim.Adamax(p, convention="tensorflow"), TF_ADAMAX_BASIC),
], ids=["adam-basic", "adam-decay", "adam-inverse-time-decay", "adamax-basic"])
def test_tf_legacy_fixtures(device, dtype, make, expected):
    """tf_keras 2.21.0 tf_keras/optimizers/legacy/{adam,adamax}_test.py doTestBasic, testBasicWithLearningRateDecay
    and ...InverseTimeDecay: var0 = [1, 2] with grads 0.1, var1 = [3, 4] with grads 0.01, three steps;
    the float64 values of the tests' numpy reference functions (ref. §10.2), within 1e-6."""
    var0, var1 = param([1.0, 2.0], device, dtype), param([3.0, 4.0], device, dtype)
    opt = make([var0, var1])
    for want0, want1 in expected:
        opt.apply_gradients([(dev(np.array([0.1, 0.1], dtype), device), var0),
                             (dev(np.array([0.01, 0.01], dtype), device), var1)])
        np.testing.assert_allclose(host(var0.data), want0, rtol=0, atol=1e-6)
        np.testing.assert_allclose(host(var1.data), want1, rtol=0, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tf_legacy_adamax_sparse_fixture(device, dtype):
    """tf_keras 2.21.0 legacy adamax_test.py testResourceSparse: var0 = [1, 2, 3] with values [0.1, 0.1] on
    rows [0, 1], var1 = [4, 5, 6] with [0.01, 0.01] on rows [2, 1]; Adamax() three steps (ref. §10.2)."""
    var0, var1 = param([1.0, 2.0, 3.0], device, dtype), param([4.0, 5.0, 6.0], device, dtype)
    opt = optim.Adamax([var0, var1], convention="tensorflow")
    for want0, want1 in TF_ADAMAX_SPARSE:
        g0 = RowSparseGrad(dev(np.array([0, 1]), device), dev(np.array([0.1, 0.1], dtype), device), (3,))
        g1 = RowSparseGrad(dev(np.array([2, 1]), device), dev(np.array([0.01, 0.01], dtype), device), (3,))
        opt.apply_gradients([(g0, var0), (g1, var1)])
        np.testing.assert_allclose(host(var0.data), want0, rtol=0, atol=1e-6)
        np.testing.assert_allclose(host(var1.data), want1, rtol=0, atol=1e-6)
