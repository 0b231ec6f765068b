"""The largest step Adam and AdaMax can take (eps = 0), over all gradient sequences."""

from __future__ import annotations

import math


def adam_worst_case_step(lr: float, b1: float, b2: float, t: int) -> float:
    """max |step_t| of Adam (Algorithm 1, eps = 0) over all gradient sequences g_1..g_t.

    m_hat_t/sqrt(v_hat_t) = (1-b1)/(1-b1^t) * sqrt((1-b2^t)/(1-b2)) * sum_k b1^(t-k) g_k / sqrt(sum_k b2^(t-k) g_k^2);
    Cauchy-Schwarz with a_k = b1^(t-k)/b2^((t-k)/2), c_k = b2^((t-k)/2) g_k bounds the last ratio by
    sqrt(sum_{j=0}^{t-1} (b1^2/b2)^j), with equality for g_k proportional to (b1/b2)^(t-k).
    """
    ratio = b1 * b1 / b2
    geometric = sum(ratio**j for j in range(t))
    return lr * (1.0 - b1) / (1.0 - b1**t) * math.sqrt((1.0 - b2**t) / (1.0 - b2)) * math.sqrt(geometric)


def adamax_worst_case_step(lr: float, b1: float, b2: float, t: int) -> float:
    """max |step_t| of AdaMax (Algorithm 2, eps = 0) over all gradient sequences g_1..g_t.

    u_t = max_k b2^(t-k)|g_k|, so |g_k| <= u_t/b2^(t-k) and |m_t| <= (1-b1) u_t sum_{j=0}^{t-1} (b1/b2)^j;
    equality for g_k proportional to b2^-(t-k) (then every b2^(t-k)|g_k| equals u_t).  For b1 > 0 this
    exceeds the paper's |step| <= alpha as soon as t >= 2 (sum (b1/b2)^j > sum b1^j = (1-b1^t)/(1-b1)).
    """
    geometric = sum((b1 / b2) ** j for j in range(t))
    return lr * (1.0 - b1) / (1.0 - b1**t) * geometric
