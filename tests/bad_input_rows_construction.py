"""Bad-input rows for optimizer construction: types, ranges, NaN/inf hyperparameters, unknown keywords,
choices (see tests/test_bad_inputs.py)."""

from __future__ import annotations

import math

import numpy as np
from bad_input_world import case

import minigrad as mg
import optim

NAN, INF = math.nan, math.inf


ROWS = [
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
]
