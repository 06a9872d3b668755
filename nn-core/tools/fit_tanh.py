#!/usr/bin/env python3
"""Fits the rational tanh of nn_core::fast::tanh_f32: tanh(x) = x P(x^2) / Q(x^2) on [0, X], P and Q of degree M
and N (default 4 and 4, X = 9), minimising the largest relative error, and prints both coefficient lists (lowest
first, rounded to f32) with the error of the f32 evaluation (separate multiply and add, and fused) over two million
points of [-20, 20] plus 200,000 logarithmically spaced ones in [1e-30, 20].

Method: the linearised problem P(u) - g(u) Q(u) = 0 (g(u) = tanh(sqrt u) / sqrt u, Q(0) = 1) solved by weighted
least squares on Chebyshev nodes, the weights then raised where the error is largest (Lawson's iteration) for 200
rounds, keeping the best. Needs numpy.

    python3 nn-core/tools/fit_tanh.py [M N X]
"""
import sys

import numpy as np

np.seterr(all="ignore")
m, n = (int(sys.argv[1]), int(sys.argv[2])) if len(sys.argv) > 2 else (4, 4)
X = float(sys.argv[3]) if len(sys.argv) > 3 else 9.0

nodes = np.cos(np.pi * (np.arange(6000) + 0.5) / 6000)
x = np.sort(np.concatenate([(nodes + 1) / 2 * X, np.linspace(0, X, 3000)]))
g = np.where(x == 0, 1.0, np.tanh(x) / np.where(x == 0, 1, x))
s = x * x / (X * X)  # the variable scaled to [0, 1] for the solve
w, q_prev, best = np.ones_like(s), np.ones_like(s), None
for _ in range(200):
    a = np.hstack([np.vstack([s**k for k in range(m + 1)]).T, -g[:, None] * np.vstack([s**k for k in range(1, n + 1)]).T])
    weight = w / (g * q_prev)
    sol, *_ = np.linalg.lstsq(a * weight[:, None], g * weight, rcond=None)
    p, q = sol[: m + 1], np.concatenate([[1.0], sol[m + 1 :]])
    pv, qv = np.polyval(p[::-1], s), np.polyval(q[::-1], s)
    err = (pv / qv - g) / g
    e = np.max(np.abs(err))
    if best is None or e < best[0]:
        best = (e, p.copy(), q.copy())
    q_prev = qv
    w = w * (np.abs(err) / e) ** 0.5 + 1e-12
    w /= w.mean()
e, p, q = best
pu = (p / (X * X) ** np.arange(m + 1)).astype(np.float32)
qu = (q / (X * X) ** np.arange(n + 1)).astype(np.float32)
print(f"degrees {m}/{n} on [0, {X}]: largest relative error before rounding {e:.3e}")
print("P", [float(c) for c in pu])
print("Q", [float(c) for c in qu])


def tanh_f32(xs, fused):
    """tanh_f32 in numpy float32 (fused: each multiply-add rounded once, through float64)."""
    a = np.clip(xs.astype(np.float32), np.float32(-X), np.float32(X))
    u = a * a

    def horner(c):
        acc = c[-1]
        for k in c[-2::-1]:
            acc = (acc.astype(np.float64) * u + np.float64(k)).astype(np.float32) if fused else (acc * u + k).astype(np.float32)
        return acc

    return np.clip((a * horner(pu)).astype(np.float32) / horner(qu), np.float32(-1), np.float32(1))


xs = np.concatenate([np.linspace(-20, 20, 2_000_001).astype(np.float32), np.logspace(-30, 1.3, 200_000).astype(np.float32)])
exact = np.tanh(xs.astype(np.float64))
for fused in (False, True):
    got = tanh_f32(xs, fused).astype(np.float64)
    err = np.abs(got - exact) / np.clip(np.abs(exact), np.finfo(np.float64).tiny, 1.0)
    ones = np.all(got[exact.astype(np.float32) == 1] == 1)
    print(f"f32, {'fused' if fused else 'separate'} multiply-adds: largest error {err.max():.3e} at x = {xs[np.argmax(err)]}; exactly 1 wherever the rounded tanh is: {ones}")
