"""Switching recording on and off: ``set_grad_enabled``, ``no_grad`` and ``enable_grad`` as PyTorch has them.

Three uses: a plain call of ``set_grad_enabled`` (switches until switched back), a ``with`` block (restores the
previous mode on exit, also on an exception) and a decorator (each call runs in the mode). The mode is
thread-local.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg


@pytest.fixture(autouse=True)
def recording_back_on():
    """Whatever a test leaves behind, the next one starts with recording on."""
    yield
    mg.set_grad_enabled(True)


def records() -> bool:
    """Whether an operation on a tensor that requires gradients is recorded right now."""
    x = mg.tensor([1.0], requires_grad=True)
    recorded = (x * 2).requires_grad
    assert recorded == mg.is_grad_enabled()
    return recorded


# ----------------------------------------------------------------- the plain call
def test_plain_call_switches_recording_until_switched_back():
    """``set_grad_enabled(False)`` alone turns recording off; it stays off until ``set_grad_enabled(True)``."""
    mg.set_grad_enabled(False)
    assert not records()
    assert not records()  # still off: nothing switched it back
    mg.set_grad_enabled(True)
    assert records()


def test_plain_call_inside_a_block_is_undone_when_the_block_ends():
    """A block restores the mode from before it, whatever plain calls happened inside."""
    with mg.no_grad():
        mg.set_grad_enabled(True)
        assert records()
    assert records()
    mg.set_grad_enabled(False)
    with mg.enable_grad():
        mg.set_grad_enabled(False)
        assert not records()
    assert not records()


@pytest.mark.parametrize("mode", [np.True_, np.False_])
def test_numpy_bools_are_modes(mode):
    """A NumPy bool is a mode like the Python bool of the same value."""
    mg.set_grad_enabled(mode)
    assert records() is bool(mode)


@pytest.mark.parametrize("mode", ["yes", 1, 0, None, 1.0, np.array([True])])
def test_a_mode_that_is_not_a_bool_is_refused_and_changes_nothing(mode):
    """``set_grad_enabled("yes")`` raises a TypeError naming ``mode`` and the value; recording stays as it was."""
    for before in (True, False):
        mg.set_grad_enabled(before)
        with pytest.raises(TypeError, match=r"mode: expected True or False, got"):
            mg.set_grad_enabled(mode)
        assert records() is before


# ----------------------------------------------------------------- blocks
@pytest.mark.parametrize("before", [True, False])
@pytest.mark.parametrize("mode", [True, False])
def test_set_grad_enabled_block_restores_the_mode_from_before_the_call(before, mode):
    """``with set_grad_enabled(mode):`` records per ``mode`` inside, and the mode before the call afterwards."""
    mg.set_grad_enabled(before)
    with mg.set_grad_enabled(mode):
        assert records() is mode
    assert records() is before


@pytest.mark.parametrize(
    "block", [mg.no_grad, mg.enable_grad, lambda: mg.set_grad_enabled(False), lambda: mg.set_grad_enabled(True)],
    ids=["no_grad", "enable_grad", "set_grad_enabled(False)", "set_grad_enabled(True)"],
)
@pytest.mark.parametrize("before", [True, False])
def test_an_exception_in_a_block_restores_the_mode(block, before):
    """The previous mode comes back when the block raises, and the exception goes on."""
    mg.set_grad_enabled(before)
    with pytest.raises(ZeroDivisionError), block():
        raise ZeroDivisionError("inside the block")
    assert records() is before


BLOCKS = {"no_grad": (mg.no_grad, False), "enable_grad": (mg.enable_grad, True),
          "set_false": (lambda: mg.set_grad_enabled(False), False),
          "set_true": (lambda: mg.set_grad_enabled(True), True)}


def check_nesting(nesting: list[str], outer_mode: bool) -> None:
    """Enter the first block of ``nesting``, check its mode, nest the rest inside, check the way out."""
    if not nesting:
        return
    make, mode = BLOCKS[nesting[0]]
    with make():
        assert records() is mode
        check_nesting(nesting[1:], mode)
        assert records() is mode
    assert records() is outer_mode


@given(start=st.booleans(), nesting=st.lists(st.sampled_from(sorted(BLOCKS)), max_size=6))
def test_nested_blocks_each_set_their_mode_and_restore_the_outer_one(start, nesting):
    """In any nesting of the four blocks, each block records per its own mode, and leaving it restores the mode
    of the block around it."""
    mg.set_grad_enabled(start)
    check_nesting(nesting, start)
    assert records() is start


def test_one_instance_entered_twice_restores_each_level():
    """The same ``no_grad()`` object, nested in itself, restores the right mode at each level."""
    block = mg.no_grad()
    with block:
        with mg.enable_grad(), block:
            assert not records()
        assert not records()
    assert records()


# ----------------------------------------------------------------- decorators
DECORATORS = {
    "no_grad()": (mg.no_grad(), False), "no_grad": (mg.no_grad, False),
    "enable_grad()": (mg.enable_grad(), True), "enable_grad": (mg.enable_grad, True),
}


@pytest.mark.parametrize("name", sorted(DECORATORS) + ["set_grad_enabled(False)", "set_grad_enabled(True)"])
@pytest.mark.parametrize("before", [True, False])
def test_a_decorated_function_runs_in_the_mode_and_leaves_the_callers_mode(name, before):
    """``@mg.no_grad()``, ``@mg.no_grad``, ``@mg.enable_grad()``, ``@mg.enable_grad`` and
    ``@mg.set_grad_enabled(mode)``: decorating changes no mode; each call runs in the decorator's mode and
    gives back the caller's mode, also when it raises."""
    mg.set_grad_enabled(before)
    if name.startswith("set_grad_enabled"):
        mode = name == "set_grad_enabled(True)"
        decorator = mg.set_grad_enabled(mode)
    else:
        decorator, mode = DECORATORS[name]

    def double(x, fail=False):
        """Twice x."""
        if fail:
            raise KeyError("inside the call")
        return x * 2, mg.is_grad_enabled()

    decorated = decorator(double)
    assert records() is before  # decorating switched nothing
    assert decorated.__name__ == "double" and decorated.__doc__ == "Twice x."
    for caller_mode in (True, False):
        mg.set_grad_enabled(caller_mode)
        y, mode_inside = decorated(mg.tensor([1.0], requires_grad=True))
        assert mode_inside is mode and y.requires_grad is mode
        assert records() is caller_mode
        with pytest.raises(KeyError):
            decorated(1.0, fail=True)
        assert records() is caller_mode


def test_decorating_something_that_is_not_callable_is_refused():
    """``no_grad()(5)`` raises a TypeError naming the value; ``@set_grad_enabled(False)`` on it switches nothing."""
    with pytest.raises(TypeError, match="function: expected a function to decorate, got 5"):
        mg.no_grad()(5)
    with pytest.raises(TypeError, match="function: expected a function to decorate, got 5"):
        mg.set_grad_enabled(False)(5)
    assert records()


def test_decorating_an_async_function_is_refused():
    """The body of an ``async def`` runs after the call returns, out of the decorator's reach: a TypeError
    naming it, rather than a decorator that silently does nothing."""

    async def fetch():
        return 1

    async def stream():
        yield 1

    for function in (fetch, stream):
        with pytest.raises(TypeError, match=f"function: .*{function.__name__} is async"):
            mg.no_grad(function)
    assert records()


def test_a_decorated_generator_runs_in_the_mode_only_while_it_runs():
    """A ``@mg.no_grad()`` generator builds no graph in its body, while the caller records between items;
    ``send``, ``throw``, ``close`` and the return value reach the body."""
    seen = []

    @mg.no_grad()
    def doubles(x):
        try:
            while True:
                received = yield x * 2
                seen.append((received, mg.is_grad_enabled()))
        except ValueError as error:
            seen.append((str(error), mg.is_grad_enabled()))
            return "done"
        finally:
            seen.append(("finally", mg.is_grad_enabled()))

    x = mg.tensor([1.0], requires_grad=True)
    generator = doubles(x)
    assert records()  # creating the generator runs nothing
    first = next(generator)
    assert not first.requires_grad
    assert records()  # between items the caller's mode holds
    assert not generator.send("hello").requires_grad
    with pytest.raises(StopIteration) as finished:
        generator.throw(ValueError("stop"))
    assert finished.value.value == "done"
    assert seen == [("hello", False), ("stop", False), ("finally", False)]
    assert records()

    closing = doubles(x)
    next(closing)
    closing.close()
    assert seen[-1] == ("finally", False)
    assert records()


# ----------------------------------------------------------------- threads
def test_a_plain_call_in_one_thread_leaves_other_threads_recording():
    """``set_grad_enabled(False)`` in a worker thread switches only that thread; the main thread's plain call
    does not reach a new thread either."""
    results = {}
    switched, checked = threading.Event(), threading.Event()

    def worker():
        mg.set_grad_enabled(False)
        switched.set()
        checked.wait(10)
        results["worker"] = records()

    def fresh_thread():
        results["fresh"] = records()

    thread = threading.Thread(target=worker)
    thread.start()
    assert switched.wait(10)
    results["main"] = records()
    checked.set()
    thread.join(10)
    mg.set_grad_enabled(False)
    helper = threading.Thread(target=fresh_thread)
    helper.start()
    helper.join(10)
    assert results == {"main": True, "worker": False, "fresh": True}
    assert not records()
