"""Conventions against the frameworks' own test fixtures: Keras 3.15.1 golden tests and tf_keras legacy tests.

Reference numbers come from keras-team/keras @3422977a, keras/src/optimizers/{adam,adamax}_test.py (golden
tests, with their full-precision outputs from Keras 3.15.1) and keras-team/tf-keras @dd0a7237,
tf_keras/optimizers/legacy/{adam,adamax}_test.py (the tf_keras 2.21.0 legacy optimizer test fixtures).
"""

from __future__ import annotations

import numpy as np
import pytest
from conventions_helpers import dev, host, param

import minigrad as mg
import optim
from minigrad.sparse import RowSparseGrad

# --------------------------------------------------------------------------- Keras 3.15.1 golden tests
# (keras/src/optimizers/*_test.py)
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
    full-precision outputs of the real Keras 3.15.1 (JAX backend), keras/src/optimizers/adam_test.py, matched to ~5
    ulps."""
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
    """test_single_step of Keras 3.15.1 with its full-precision output (keras/src/optimizers/adam_test.py): lr 0.5,
    grads [1, 6, 7, 2], vars [1, 2, 3, 4], float32."""
    x = param([1.0, 2.0, 3.0, 4.0], device)
    cls(lr=0.5, convention="keras").apply_gradients([(dev(np.array([1.0, 6.0, 7.0, 2.0], np.float32), device), x)])
    np.testing.assert_allclose(host(x.data), np.array(expected, np.float32), rtol=0, atol=3e-7)


@pytest.mark.parametrize("cls", [optim.Adam, optim.Adamax])
def test_keras_weight_decay_and_exclusions(device, cls):
    """test_weight_decay of Keras 3.15.1 (keras/src/optimizers/adam_test.py): three optimizers (lr 1.0, weight_decay
    0.004, zero
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
    """Keras 3.15.1 Adam(0.1, weight_decay=0.1), x = 1, g = 0.5, one step: 0.8900013 (a run of Keras 3.15.1):
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
    norm 13) (a run of Keras 3.15.1). The clipped gradient is read from SGD(lr=1) on zero parameters: x = -g_clipped."""
    xs = [param(np.zeros(len(g)), device) for g in grads]
    opt = optim.SGD(xs, lr=1.0, **kwargs)
    opt.apply_gradients([(dev(np.array(g, np.float32), device), x) for g, x in zip(grads, xs)])
    for x, e in zip(xs, expected):
        np.testing.assert_allclose(-host(x.data), np.array(e, np.float32), rtol=1e-6, atol=0)


# --------------------------------------------------------------------------- tf_keras 2.21.0 legacy fixtures
# (tf_keras/optimizers/legacy/*_test.py)
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
    the float64 values of the tests' numpy reference functions (tf_keras/optimizers/legacy/*_test.py), within 1e-6."""
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
    rows [0, 1], var1 = [4, 5, 6] with [0.01, 0.01] on rows [2, 1]; Adamax() three steps
    (tf_keras/optimizers/legacy/*_test.py)."""
    var0, var1 = param([1.0, 2.0, 3.0], device, dtype), param([4.0, 5.0, 6.0], device, dtype)
    opt = optim.Adamax([var0, var1], convention="tensorflow")
    for want0, want1 in TF_ADAMAX_SPARSE:
        g0 = RowSparseGrad(dev(np.array([0, 1]), device), dev(np.array([0.1, 0.1], dtype), device), (3,))
        g1 = RowSparseGrad(dev(np.array([2, 1]), device), dev(np.array([0.01, 0.01], dtype), device), (3,))
        opt.apply_gradients([(g0, var0), (g1, var1)])
        np.testing.assert_allclose(host(var0.data), want0, rtol=0, atol=1e-6)
        np.testing.assert_allclose(host(var1.data), want1, rtol=0, atol=1e-6)
