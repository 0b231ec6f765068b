"""The fused path (``fused=True``): parameters, gradients and state in flat buffers, one update per buffer.

The reference path updates one parameter at a time, a dozen array operations
each. The fused path keeps every parameter of one device and dtype (and one
set of state arrays) back to back in a :class:`FlatStore`: a flat parameter
buffer, a flat gradient buffer, and one flat buffer per state array (``m``,
``v``, ``v_max`` for Adam and AMSGrad, ``m``, ``u`` for Adamax, the momentum
buffer for SGD with momentum). A step is
then a few passes over contiguous memory: in chunks spread over the cores on
the CPU (:mod:`optim.fused.cpu`; one compiled pass per chunk with Numba,
:mod:`optim.fused.jit`, else a short sequence of NumPy ufuncs), one CUDA
kernel on a GPU (:mod:`optim.fused.gpu`). The arithmetic is
:mod:`optim.functional`'s, in the same order, so both paths give the same bits.

Binding, at the first step or ``zero_grad(set_to_none=False)``, copies each
parameter into its slot once and makes ``param.data`` a **view** of that slot:
the Tensor objects stay the same, and everything that reads or writes
``param.data`` (the model, the moving average of ``use_ema``,
``Module.load_state_dict``) works as before. ``optimizer.state[param]`` holds
views of the state buffers, so ``state_dict``/``load_state_dict`` work
unchanged (a loaded state is copied into the buffers at the next step). If
``param.data`` is replaced by an array of the same shape, dtype and device, its
values are copied into the slot; a new device or dtype, or new parameters,
rebuild the buffers, and so does a group whose state arrays change
(``amsgrad`` switched through ``param_groups``).

Gradients: binding registers each parameter's slot of the flat gradient
buffer with :func:`minigrad.autograd.set_grad_buffer`, so ``backward`` writes
a parameter's first gradient there (``p.grad`` becomes the slot's view) and
adds later ones there in place, as PyTorch accumulates. ``zero_grad()`` sets
every ``p.grad`` to ``None``, as on the reference path, so a parameter that
the next loss leaves out has no gradient and is not updated.
``zero_grad(set_to_none=False)`` gives each parameter that has a gradient the
zero view of its slot (one without stays ``None``). A step that finds
``p.grad`` still being that view reads it in place; any other gradient (one
assigned by hand, or made by ``create_graph=True``, loss scaling or clipping)
is first copied into the slot, which costs one pass over it.

When every parameter's gradient is that view (after ``backward``, in the plain
loop ``zero_grad(); loss.backward(); step()``, with gradient accumulation over
several ``backward`` calls, and in ``minimize`` and ``apply_gradients`` with
the ``p.grad`` of every parameter) and no option acts on the gradients one by
one, ``step`` goes straight from the flat buffers to the kernels
(:meth:`FusedEngine.direct_step <optim.fused.engine.FusedEngine.direct_step>`,
with the conditions of :mod:`optim.fused.direct`). Otherwise, before the rule (checks, loss
scaling, accumulation, clipping) and after it (EMA) runs the reference
pipeline. A call updates the parameters that have a gradient; consecutive ones
that share group, learning rate, weight decay and step :math:`t` form a run
with one set of scalars. On both ways, the groups' hyperparameters are checked
again at each step (:meth:`~optim.optimizer.Optimizer.check_groups`), so a
value made invalid through ``param_groups`` is refused before anything
changes. Not supported, with a clear error: lazy (row-sparse) updates.
"""

from optim.fused.engine import FusedEngine

__all__ = ["FusedEngine"]
