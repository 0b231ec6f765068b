"""Item assignment ``x[index] = value``: allowed under ``no_grad`` (and on tensors needing no gradient), refused
where it would make a gradient wrong, and checked before anything is written.

Every assignment counts a new version of the memory it writes; backward refuses a graph one of whose operands or
results was assigned into after it was recorded, before it changes any gradient.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def test_assignment_under_no_grad_writes_like_numpy(device):
    """Integers, slices, boolean masks and index tensors, with broadcasting values: the same result as NumPy."""
    expected = np.arange(12.0).reshape(3, 4)
    x = mg.tensor(expected, requires_grad=True, device=device)
    writes = [(1, 5.0), ((slice(None), 0), [7.0, 8.0, 9.0]), (expected > 9, -1.0), ([0, 2], np.full(4, 3.0))]
    with mg.no_grad():
        for index, value in writes:
            x[index] = value
            expected[index] = value
        x[mg.tensor(np.array([2]), device=device), mg.tensor(np.array([3]), device=device)] = mg.tensor(
            [4.0], device=device)
        expected[2, 3] = 4.0
    np.testing.assert_array_equal(x.numpy(), expected)
    assert x.requires_grad and x.is_leaf


def test_a_tensor_that_needs_no_gradient_takes_assignment_while_recording(device):
    """As in PyTorch, only tensors that require gradients need ``no_grad``; a float into an int tensor truncates."""
    counts = mg.tensor(np.zeros(3, dtype=np.int64), device=device)
    counts[1] = 2.7
    assert counts.tolist() == [0, 2, 0]


def test_assignment_while_recording_is_refused_for_a_tensor_that_requires_gradients(device):
    """Outside ``no_grad`` a leaf or result that requires gradients refuses it (the write is not recorded), and a
    value that requires gradients is refused too (no gradient could reach it); nothing is written."""
    x = mg.tensor([1.0, 2.0], requires_grad=True, device=device)
    y = x * 2
    plain = mg.tensor([0.0, 0.0], device=device)
    for target, value in ((x, 0.0), (y, 0.0), (plain, x)):
        with pytest.raises(RuntimeError, match="no_grad"):
            target[0] = value
    assert x.tolist() == [1.0, 2.0] and y.tolist() == [2.0, 4.0] and plain.tolist() == [0.0, 0.0]


@pytest.mark.parametrize(("index", "value", "error", "message"), [
    (0, "a", TypeError, "value"),
    (0, 1 + 2j, TypeError, "complex"),
    ([0, 5], 1.0, IndexError, "5"),
    (slice(None), [1.0, 2.0, 3.0], ValueError, "shape"),
])
def test_bad_assignments_change_nothing(device, index, value, error, message):
    """A value that is no number or complex for a real tensor, an index out of range, a value that does not
    broadcast: refused before any element is written."""
    x = mg.tensor([1.0, 2.0], requires_grad=True, device=device)
    with mg.no_grad(), pytest.raises(error, match=message):
        x[index] = value
    assert x.tolist() == [1.0, 2.0]


def test_backward_refuses_an_operand_assigned_after_recording_and_changes_nothing(device):
    """:math:`y = \\sum x \\odot w`: changing :math:`w` after recording would give :math:`\\bar x = w_{new}`; backward
    refuses before any gradient is written, and a graph recorded after the assignment works."""
    x = mg.tensor([1.0, 2.0], requires_grad=True, device=device)
    w = mg.tensor([3.0, 4.0], requires_grad=True, device=device)
    loss = (x * w).sum() + x.sum()
    with mg.no_grad():
        w[0] = 10.0
    with pytest.raises(RuntimeError, match=r"operand 1 of Mul .*item assignment"):
        loss.backward()
    assert x.grad is None and w.grad is None
    ((x * w).sum() + x.sum()).backward()
    assert x.grad.tolist() == [11.0, 5.0] and w.grad.tolist() == [1.0, 2.0]


def test_backward_refuses_a_result_assigned_after_recording(device):
    """:math:`\\partial e^x = e^x` is read from the result: assigning into it is refused too."""
    x = mg.tensor([0.0, 1.0], requires_grad=True, device=device)
    y = mg.exp(x)
    with mg.no_grad():
        y[0] = 5.0
    with pytest.raises(RuntimeError, match="result 0 of Exp"):
        y.sum().backward()


def test_assigning_through_a_view_counts_for_the_memory_it_shares(device):
    """``row = w[0]`` views ``w``'s memory: assigning into ``w`` changes ``row`` too, and backward through a graph
    holding ``row`` is refused; chained indexing ``w[0][1] = v`` writes into ``w``, as in PyTorch and NumPy."""
    w = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, device=device)
    row = w[0]
    loss = (row * row).sum()
    with mg.no_grad():
        w[0][1] = 10.0
    assert w.numpy()[0, 1] == 10.0 and row.numpy()[1] == 10.0
    with pytest.raises(RuntimeError, match="item assignment"):
        loss.backward()


def test_assignment_into_another_tensor_leaves_the_graph_usable(device):
    """Assigning into a tensor the graph never saw changes nothing for it."""
    x = mg.tensor([1.0, 2.0], requires_grad=True, device=device)
    loss = (x * x).sum()
    other = mg.tensor([0.0], device=device)
    other[0] = 1.0
    loss.backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_version_counts_are_dropped_with_their_memory(device):
    """1,000 tensors assigned into and dropped leave no count behind (the registry does not grow)."""
    from minigrad import assignment

    before = len(assignment._assignments)
    for _ in range(1000):
        scratch = mg.tensor(np.zeros(4), device=device)
        scratch[0] = 1.0
        del scratch
    assert len(assignment._assignments) <= before + 1
