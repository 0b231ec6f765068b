"""Bad-input rows for optimizer calls, mismatched state, the functional update rules and schedules
(see tests/test_bad_inputs.py)."""

from __future__ import annotations

import math

import numpy as np
from bad_input_world import case, edited_state_dict, plain_callable_config, set_grad

import minigrad as mg
import optim
from optim import functional, schedules

NAN, INF = math.nan, math.inf


def fused_direct_with(**changes):
    """A setup: a fused optimizer over the world's model that has taken a step and handed out the views of its
    flat gradient buffer (so its next step is direct), then ``changes`` made through ``param_groups``."""
    def setup(w):
        w.fused = optim.Adam(w.model.parameters(), fused=True)
        w.fused.step()
        w.fused.zero_grad(set_to_none=False)
        w.fused.param_groups[0].update(changes)

    return setup


def sgd_with(convention, fused, changes=None):
    """A setup: an SGD over the world's model without momentum that has taken a step (and, fused, handed out the
    views of its flat gradient buffer, so that its next step is direct), then ``changes`` made through
    ``param_groups`` (default: momentum switched on, while the state has no buffer)."""
    def setup(w):
        w.sgd = optim.SGD(w.model.parameters(), lr=0.1, convention=convention, fused=fused)
        w.sgd.step()
        if fused:
            w.sgd.zero_grad(set_to_none=False)
        w.sgd.param_groups[0].update(changes or {"momentum": 0.9})

    return setup


def sgd_state_of_keras(w):
    """A setup: the state dict of a Keras-convention SGD with momentum, and a PyTorch-convention one to load it."""
    keras = optim.SGD(w.model.parameters(), lr=0.1, momentum=0.9, convention="keras")
    keras.state = {p: {"step": 1, "momentum": p.xp.zeros_like(p.data)} for p in w.model.parameters()}
    w.saved = keras.state_dict()
    w.sgd = optim.SGD(w.model.parameters(), lr=0.1, momentum=0.9, convention="pytorch")


def _first_value(key: str, value: float):
    """A state-dict edit: the first element of parameter 1's state array ``key`` set to ``value``."""

    def edit(state):
        state["state"][1][key][0] = value

    return edit


ROWS = [
    # ----------------------------------------------------------------- optimizer calls
    case("step-grad-shape", lambda w: w.opt.step(), ValueError, "grad", "(3, 4)", "(4, 3)",
         setup=lambda w: set_grad(w, np.ones((3, 4), np.float32))),
    case("step-grad-dtype", lambda w: w.opt.step(), ValueError, "grad", "float64", "float32",
         setup=lambda w: set_grad(w, np.ones((4, 3)))),
    case("step-grad-type", lambda w: w.opt.step(), TypeError, "grad", "'g'", setup=lambda w: set_grad(w, "g")),
    case("apply-not-a-pair", lambda w: w.opt.apply_gradients([(1,)]), TypeError, "grads_and_vars[0]", "(1,)"),
    case("apply-foreign", lambda w: w.opt.apply_gradients([(np.ones(3), w.x)]), ValueError, "grads_and_vars",
         "(2, 3)", "not optimised"),
    case("step-nonfinite-raise", lambda w: w.strict.step(), FloatingPointError, "parameter 0", "'0.weight'",
         "(4, 3)", "1 non-finite",
         setup=lambda w: (setattr(w, "strict", optim.Adam(w.model.named_parameters(), nonfinite="raise")),
                          set_grad(w, np.array([[np.nan, 0, 0]] + [[0, 0, 0]] * 3, np.float32)))),
    case("step-beta-rounds-to-one", lambda w: w.rounding.step(), ValueError, "beta2", "0.99999999", "float32",
         setup=lambda w: setattr(w, "rounding", optim.Adam(w.model.parameters(), betas=(0.9, 0.99999999),
                                                            power_dtype="float32"))),
    case("fused-step-beta-rounds-to-one", lambda w: w.rounding.step(), ValueError, "beta1", "0.999999999",
         setup=lambda w: setattr(w, "rounding", optim.Adamax(w.model.parameters(), betas=(0.999999999, 0.9),
                                                             convention="keras", fused=True))),
    case("zero-grad-set-to-none", lambda w: w.opt.zero_grad(set_to_none="no"), TypeError, "set_to_none", "'no'"),
    case("step-group-lr-nan", lambda w: w.opt.step(), ValueError, "param_groups[0]", "lr", "nan",
         setup=lambda w: w.opt.param_groups[0].update(lr=NAN)),
    case("step-group-maximize", lambda w: w.opt.step(), TypeError, "param_groups[0]", "maximize", "'no'",
         setup=lambda w: w.opt.param_groups[0].update(maximize="no")),
    case("step-group-slot-arithmetic", lambda w: w.opt.step(), ValueError, "param_groups[0]", "slot_arithmetic",
         "'x'", setup=lambda w: w.opt.param_groups[0].update(slot_arithmetic="x")),
    case("fused-capreolus-sparse-gradient", lambda w: w.capreolus.apply_gradients([(mg.RowSparseGrad(
        w.table.xp.zeros(2, dtype=np.int64), w.table.xp.ones((2, 2)), (4, 2)), w.table)]), ValueError,
         "sparse_update", "(4, 2)", "fused=False",
         setup=lambda w: setattr(w, "capreolus", optim.Adam([("table", w.table)], convention="capreolus",
                                                            fused=True))),
    case("step-group-missing", lambda w: w.opt.step(), ValueError, "param_groups[0]", "['eps']",
         setup=lambda w: w.opt.param_groups[0].pop("eps")),
    case("step-group-amsgrad-switched", lambda w: w.opt.step(), ValueError, "state", "(4, 3)", "['v_max']",
         setup=lambda w: w.opt.param_groups[0].update(amsgrad=True)),
    case("apply-group-betas", lambda w: w.opt.apply_gradients([(np.zeros((4, 3), np.float32), w.weight)]),
         ValueError, "param_groups[0]", "betas[1]", "1.0",
         setup=lambda w: w.opt.param_groups[0].update(betas=(0.9, 1.0))),
    case("fused-step-group-eps", lambda w: w.fused.step(), ValueError, "param_groups[0]", "eps", "-1.0",
         setup=lambda w: (setattr(w, "fused", optim.Adam(w.model.parameters(), fused=True)),
                          w.fused.param_groups[0].update(eps=-1.0))),
    case("fused-direct-step-group-weight-decay", lambda w: w.fused.step(), ValueError, "param_groups[0]",
         "weight_decay", "inf", setup=fused_direct_with(weight_decay=INF)),
    case("fused-direct-step-group-amsgrad", lambda w: w.fused.step(), TypeError, "param_groups[0]", "amsgrad",
         "'yes'", setup=fused_direct_with(amsgrad="yes")),
    case("weight-decay-pattern", lambda w: w.opt.exclude_from_weight_decay(var_names=["("]), ValueError,
         "var_names", "'('"),
    case("get-config-callable", plain_callable_config, TypeError, "get_config", "plain callable"),
    case("apply-not-iterable", lambda w: w.opt.apply_gradients(5), TypeError, "grads_and_vars", "5"),
    case("apply-none-gradient", lambda w: w.opt.apply_gradients([(np.ones((4, 3), np.float32), w.weight),
                                                                 (None, w.model[0].bias)]), TypeError,
         "grads_and_vars[1]", "None", "(4,)"),
    case("keras-apply-only-none", lambda w: w.keras.apply_gradients([(None, w.weight)]), ValueError,
         "grads_and_vars", "no gradient", "'0.weight'",
         setup=lambda w: setattr(w, "keras", optim.Adam(w.model.named_parameters(), convention="keras"))),
    case("minimize-not-callable", lambda w: w.opt.minimize(5), TypeError, "loss_fn", "5"),
    case("minimize-loss-not-tensor", lambda w: w.opt.minimize(lambda: 1.0), TypeError, "loss_fn", "float"),
    case("minimize-foreign-var", lambda w: w.opt.minimize(lambda: (w.x * w.x).sum(), [w.x]), ValueError,
         "var_list[0]", "(2, 3)"),
    case("schedule-returns-str", lambda w: w.scheduled.step(), TypeError, "lr(0)", "'x'",
         setup=lambda w: setattr(w, "scheduled", optim.Adam(w.model.parameters(), lr=lambda k: "x"))),
    case("pattern-schedule-returns-nan", lambda w: w.scheduled.step(), ValueError, "pattern_lrs[0]['lr'](0)", "nan",
         setup=lambda w: setattr(w, "scheduled", optim.Adam(w.model.named_parameters(), lr=0.1, pattern_lrs=[
             {"patterns": ["weight"], "lr": lambda k: NAN}]))),
    case("sgd-momentum-switched-on", lambda w: w.sgd.step(), ValueError, "state", "['momentum_buffer']",
         "momentum switched on", setup=sgd_with(convention="pytorch", fused=False)),
    case("sgd-fused-direct-momentum-switched-on", lambda w: w.sgd.step(), ValueError, "state", "['momentum']",
         setup=sgd_with(convention="keras", fused=True)),
    case("sgd-group-nesterov-dampening", lambda w: w.sgd.step(), ValueError, "param_groups[0]", "nesterov",
         setup=sgd_with(convention="pytorch", fused=True, changes={"momentum": 0.9, "nesterov": True,
                                                                   "dampening": 0.5})),
    # ----------------------------------------------------------------- mismatched state
    case("load-sgd-state-of-another-convention", lambda w: w.sgd.load_state_dict(w.saved), ValueError,
         "state_dict['state'][0]", "momentum_buffer", setup=sgd_state_of_keras),
    case("load-state-type", lambda w: w.opt.load_state_dict([1]), TypeError, "state_dict", "list"),
    case("load-state-algorithm", lambda w: w.opt.load_state_dict(edited_state_dict(w, lambda s: s.update(
        algorithm="Adamax"))), ValueError, "state_dict['algorithm']", "'Adamax'"),
    case("load-state-shape", lambda w: w.opt.load_state_dict(edited_state_dict(w, lambda s: s["state"][0].update(
        m=np.ones((2, 2), np.float32)))), ValueError, "state_dict['state'][0]['m']", "(2, 2)"),
    case("load-state-dtype", lambda w: w.opt.load_state_dict(edited_state_dict(w, lambda s: s["state"][1].update(
        v=np.ones(4)))), ValueError, "state_dict['state'][1]['v']", "float64"),
    case("load-state-step", lambda w: w.opt.load_state_dict(edited_state_dict(w, lambda s: s["state"][0].update(
        step=-1))), ValueError, "['step']", "-1"),
    case("load-state-iterations", lambda w: w.opt.load_state_dict(edited_state_dict(w, lambda s: s.update(
        iterations=-3))), ValueError, "iterations", "-3"),
    case("load-state-groups", lambda w: w.opt.load_state_dict(edited_state_dict(w, lambda s: s["param_groups"].append(
        s["param_groups"][0]))), ValueError, "param_groups", "2 group(s)"),
    case("load-state-lr", lambda w: w.opt.load_state_dict(edited_state_dict(w, lambda s: s["param_groups"][0].update(
        lr=NAN))), ValueError, "lr", "nan"),
    case("load-state-initial-lr", lambda w: w.opt.load_state_dict(edited_state_dict(
        w, lambda s: s["param_groups"][0].update(initial_lr=NAN))), ValueError, "['initial_lr']", "nan"),
    case("load-state-ema", lambda w: w.opt.load_state_dict(edited_state_dict(w, lambda s: s["averages"].update(
        {0: np.ones(2, np.float32)}))), ValueError, "state_dict['averages'][0]", "(2,)"),
    case("from-config-name", lambda w: optim.Adam.from_config({"name": "Adamax"}), ValueError,
         "config['name']", "'Adamax'"),
    case("load-state-v-negative", lambda w: w.opt.load_state_dict(edited_state_dict(w, _first_value("v", -1.0))),
         ValueError, "state_dict['state'][1]['v']", "negative"),
    case("load-state-m-nan", lambda w: w.opt.load_state_dict(edited_state_dict(w, _first_value("m", NAN))),
         ValueError, "state_dict['state'][1]['m']", "NaN"),
    # ----------------------------------------------------------------- functional update rules
    case("functional-eps-root-nan", lambda w: functional.adam_update(**w.adam_kwargs(eps_root=NAN)), ValueError,
         "eps_root", "nan"),
    case("functional-epsilon-mode", lambda w: functional.adam_update(**w.adam_kwargs(epsilon_mode="x")),
         ValueError, "epsilon_mode", "'x'"),
    case("functional-slot-arithmetic", lambda w: functional.adam_update(**w.adam_kwargs(slot_arithmetic="kernel")),
         ValueError, "slot_arithmetic", "'kernel'"),
    case("functional-adamax-slot-arithmetic", lambda w: functional.adamax_update(
        w.arrays["param"], w.arrays["grad"], w.arrays["m"], w.arrays["u"], step=1, lr=0.1, beta1=0.9, beta2=0.999,
        eps=1e-8, slot_arithmetic="single"), ValueError, "slot_arithmetic", "'single'"),
    case("functional-bias-corrected", lambda w: functional.adam_update(**w.adam_kwargs(bias_corrected="no")),
         TypeError, "bias_corrected", "'no'"),
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
    case("functional-lr-array", lambda w: functional.adam_update(**w.adam_kwargs(lr=np.array([0.01]))),
         TypeError, "lr", "shape (1,)"),
    case("functional-step-float", lambda w: functional.adam_update(**w.adam_kwargs(step=2.0)), ValueError,
         "step", "2.0"),
    case("functional-sgd-lr-nan", lambda w: functional.sgd_update(w.arrays["param"], w.arrays["grad"], lr=NAN),
         ValueError, "lr", "nan"),
    case("functional-sgd-grad-shape", lambda w: functional.sgd_update(w.arrays["param"], w.x.xp.ones(2), lr=0.1),
         ValueError, "grad", "(2,)"),
    case("functional-adamax-epsilon", lambda w: functional.adamax_update(
        w.arrays["param"], w.arrays["grad"], w.arrays["m"], w.arrays["u"], step=1, lr=0.1, beta1=0.9, beta2=0.99,
        eps=1e-8, adamax_epsilon="x"), ValueError, "adamax_epsilon", "'x'"),
    case("functional-sgd-buffer-missing", lambda w: functional.sgd_update(w.arrays["param"], w.arrays["grad"], None,
                                                                          lr=0.1, momentum=0.9),
         ValueError, "buffer", "NoneType"),
    case("functional-sgd-form", lambda w: functional.sgd_update(w.arrays["param"], w.arrays["grad"], lr=0.1,
                                                                form="x"), ValueError, "form", "'x'"),
    case("functional-sgd-dampening-velocity", lambda w: functional.sgd_update(
        w.arrays["param"], w.arrays["grad"], w.arrays["m"], lr=0.1, momentum=0.9, dampening=0.2), ValueError,
         "dampening", "velocity", "0.2"),
    case("functional-sgd-first-step-not-bool", lambda w: functional.sgd_update(
        w.arrays["param"], w.arrays["grad"], w.arrays["m"], lr=0.1, momentum=0.9, form="dampened",
        first_step="yes"), TypeError, "first_step", "'yes'"),
    case("functional-sgd-nesterov-without-momentum", lambda w: functional.sgd_update(
        w.arrays["param"], w.arrays["grad"], lr=0.1, nesterov=True, form="dampened"), ValueError,
         "nesterov", "momentum=0.0"),
    # ----------------------------------------------------------------- schedules
    case("schedule-decay-steps", lambda w: schedules.ExponentialDecay(0.1, 0, 0.5), ValueError,
         "decay_steps", "0"),
    case("schedule-staircase", lambda w: schedules.ExponentialDecay(0.1, 10, 0.5, staircase="yes"), TypeError,
         "staircase", "'yes'"),
    case("schedule-alpha-nan", lambda w: schedules.CosineDecay(0.1, 10, alpha=NAN), ValueError, "alpha", "nan"),
    case("schedule-restarts-first-decay-steps", lambda w: schedules.CosineDecayRestarts(0.1, 0), ValueError,
         "first_decay_steps", "0"),
    case("schedule-restarts-t-mul", lambda w: schedules.CosineDecayRestarts(0.1, 5, t_mul=0.0), ValueError,
         "t_mul", "0.0"),
    case("schedule-restarts-m-mul", lambda w: schedules.CosineDecayRestarts(0.1, 5, m_mul=-0.5), ValueError,
         "m_mul", "-0.5"),
    case("schedule-boundaries-nan", lambda w: schedules.PiecewiseConstantDecay([1, NAN], [0.1, 0.2, 0.3]),
         ValueError, "boundaries", "nan"),
    case("schedule-boundaries-type", lambda w: schedules.PiecewiseConstantDecay(5, [0.1]), TypeError,
         "boundaries", "5"),
    case("schedule-values-index", lambda w: schedules.PiecewiseConstantDecay([1], [0.1, -1.0]), ValueError,
         "values[1]", "-1.0"),
    case("schedule-unknown", lambda w: schedules.deserialize({"class_name": "StepDecay", "config": {}}),
         ValueError, "class_name", "'StepDecay'"),
]
