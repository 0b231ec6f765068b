"""capreolus's ``AdamMultilr``, ported onto tf_keras's legacy optimizer (``optimizer_v2``), for the reference runs.

Source: ``capreolus/utils/keras_support.py`` of the public repository capreolus-ir/capreolus (class
``AdamMultilr``, itself a copy of TensorFlow's optimizer_v2 ``Adam`` under the Apache License 2.0). capreolus
subclasses ``tensorflow.python.keras.optimizer_v2.optimizer_v2.OptimizerV2``, which TensorFlow 2.21 no longer
ships; tf_keras 2.21.0's legacy ``OptimizerV2`` is the same class. The port changes only the imports
(``training_ops.resource_apply_adam`` is ``tf.raw_ops.ResourceApplyAdam``, ``math_ops``/``state_ops``/
``array_ops`` are ``tf``/``tf.compat.v1``) and keeps every rule (and the order of every operation) as capreolus has it:

* ``pattern_lrs = [{"patterns": [regex, ...], "lr": lr}, ...]``: a variable takes the rate of the first entry
  one of whose patterns ``re.search``es its name, else ``learning_rate``; the legacy ``decay`` and a schedule
  apply to each entry's rate (``_decayed_multi_lr``);
* dense gradients: the ``ResourceApplyAdam`` / ``ResourceApplyAdamWithAmsgrad`` kernels with that rate (as
  tf.keras legacy ``Adam``);
* sparse gradients (``_resource_apply_sparse``, after the repeated rows are summed): the whole ``m`` and ``v``
  decay, the rows are scatter-added, AMSGrad takes the maximum, and the whole variable is updated with the
  *raw* rate ``lr * m / (sqrt(v) + epsilon)``: ``_find_lr`` returns ``lr_t`` (or ``lr-{i}_t``), not the
  bias-corrected ``lr`` that ``_prepare_local`` also computes.
"""

from __future__ import annotations

import re
from typing import Any

import tensorflow as tf
from tf_keras.src import backend_config
from tf_keras.src.optimizers.legacy import optimizer_v2
from tf_keras.src.optimizers.schedules import learning_rate_schedule

__all__ = ["AdamMultilr"]


class AdamMultilr(optimizer_v2.OptimizerV2):
    """capreolus's Adam with per-name learning rates: its rules, as listed in the module docstring."""

    _HAS_AGGREGATE_GRAD = True

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, name: str = "AdamMultilr",
                 pattern_lrs: list[dict[str, Any]] | None = None, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self._set_hyper("learning_rate", kwargs.get("lr", learning_rate))
        self._set_hyper("decay", self._initial_decay)
        self._set_hyper("beta_1", beta_1)
        self._set_hyper("beta_2", beta_2)
        self.epsilon = epsilon or backend_config.epsilon()
        self.amsgrad = amsgrad
        self.pattern_lrs = list(pattern_lrs or ())

    def _create_slots(self, var_list: list[Any]) -> None:
        names = ("m", "v", "vhat") if self.amsgrad else ("m", "v")
        for name in names:
            for var in var_list:
                self.add_slot(var, name)

    def _entry_rate(self, rate: Any, var_dtype: Any) -> Any:
        """An entry's rate now: its schedule at ``iterations``, then the legacy decay."""
        step = tf.cast(self.iterations, var_dtype)
        if isinstance(rate, learning_rate_schedule.LearningRateSchedule):
            rate = tf.cast(rate(step), var_dtype)
        if self._initial_decay > 0.0:
            rate = rate / (1.0 + self._get_hyper("decay", var_dtype) * step)
        return rate

    def _prepare_local(self, var_device: Any, var_dtype: Any, apply_state: dict[Any, Any]) -> None:
        super()._prepare_local(var_device, var_dtype, apply_state)  # lr_t: learning_rate, decayed
        numbers = apply_state[(var_device, var_dtype)]
        for index, entry in enumerate(self.pattern_lrs):
            numbers[f"lr-{index}_t"] = tf.identity(self._entry_rate(entry["lr"], var_dtype))
        step = tf.cast(self.iterations + 1, var_dtype)
        beta_1 = tf.identity(self._get_hyper("beta_1", var_dtype))
        beta_2 = tf.identity(self._get_hyper("beta_2", var_dtype))
        numbers.update(epsilon=tf.convert_to_tensor(self.epsilon, var_dtype), beta_1_t=beta_1, beta_2_t=beta_2,
                       beta_1_power=tf.pow(beta_1, step), beta_2_power=tf.pow(beta_2, step),
                       one_minus_beta_1_t=1 - beta_1, one_minus_beta_2_t=1 - beta_2)

    def _rate_of(self, var: Any, numbers: dict[str, Any]) -> Any:
        """The raw rate of the first entry with a pattern that ``re.search``es the variable's name, else lr_t."""
        for index, entry in enumerate(self.pattern_lrs):
            if any(re.search(pattern, var.name) for pattern in entry["patterns"]):
                return numbers[f"lr-{index}_t"]
        return numbers["lr_t"]

    def _numbers(self, var: Any, apply_state: Any) -> dict[str, Any]:
        key = (var.device, var.dtype.base_dtype)
        return (apply_state or {}).get(key) or self._fallback_apply_state(*key)

    def _resource_apply_dense(self, grad: Any, var: Any, apply_state: Any = None) -> Any:
        numbers = self._numbers(var, apply_state)
        arguments = dict(var=var.handle, m=self.get_slot(var, "m").handle, v=self.get_slot(var, "v").handle,
                         beta1_power=numbers["beta_1_power"], beta2_power=numbers["beta_2_power"],
                         lr=self._rate_of(var, numbers), beta1=numbers["beta_1_t"], beta2=numbers["beta_2_t"],
                         epsilon=numbers["epsilon"], grad=grad, use_locking=self._use_locking)
        if self.amsgrad:
            return tf.raw_ops.ResourceApplyAdamWithAmsgrad(vhat=self.get_slot(var, "vhat").handle, **arguments)
        return tf.raw_ops.ResourceApplyAdam(**arguments)

    def _resource_apply_sparse(self, grad: Any, var: Any, indices: Any, apply_state: Any = None) -> Any:
        numbers = self._numbers(var, apply_state)
        rate = self._rate_of(var, numbers)  # capreolus's sparse step: the raw rate, no bias correction
        m, v = self.get_slot(var, "m"), self.get_slot(var, "v")
        decayed_m = tf.compat.v1.assign(m, m * numbers["beta_1_t"], use_locking=self._use_locking)
        with tf.control_dependencies([decayed_m]):
            new_m = self._resource_scatter_add(m, indices, grad * numbers["one_minus_beta_1_t"])
        decayed_v = tf.compat.v1.assign(v, v * numbers["beta_2_t"], use_locking=self._use_locking)
        with tf.control_dependencies([decayed_v]):
            new_v = self._resource_scatter_add(v, indices, (grad * grad) * numbers["one_minus_beta_2_t"])
        second = new_v
        if self.amsgrad:
            vhat = self.get_slot(var, "vhat")
            maximum = tf.maximum(vhat, new_v)
            with tf.control_dependencies([maximum]):
                second = tf.compat.v1.assign(vhat, maximum, use_locking=self._use_locking)
        update = tf.compat.v1.assign_sub(var, rate * new_m / (tf.sqrt(second) + numbers["epsilon"]),
                                         use_locking=self._use_locking)
        return tf.group(update, new_m, new_v, second)
