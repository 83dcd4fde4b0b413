#!/usr/bin/env python3
"""numpy/scipy timings for the benchmark suites, on the very arrays the TypeScript side wrote.

    /usr/bin/python3 bench/numpy_ref.py MANIFEST.json

MANIFEST (written by bench/lib/numpy.ts) names a folder of .npy files and a list of cases:
  {"dir": ..., "minSamples": 5, "maxTime": 1.0, "cases": [{"id", "kind", "arrays": {name: file}, "params": {...}}]}
kinds:
  sweep          K soft Bellman sweeps V ← τ·logsumexp((r + γPV)/τ) from V = 0; P dense (S·A, S) or CSR
  lu             x = (I − γP_π)⁻¹ b or its transpose: build I − γP_π from the dense P, then
                 scipy.linalg.lu_factor + lu_solve(trans=0/1) (LAPACK dgetrf + dgetrs); also times
                 factor + solve alone on the built matrix (factorSolveMs)
  hypergradient  the exact hypergradient of the GridWorld goal problem (bench/bilevel.bench.ts):
                 lower level by policy iteration (scipy.sparse.linalg.spsolve per evaluation) or
                 value iteration with error bounds, then three sparse solves
Prints one JSON object: environment, and per case the median / min ms over the samples and
the result (written to DIR/<id>.out.npy) so the caller can check it against its own.
The caller sets OPENBLAS_NUM_THREADS (1, or unset for all threads).
"""
import json
import os
import sys
import time

import numpy as np
import scipy
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg


def load(d, arrays):
    return {k: np.load(os.path.join(d, f)) for k, f in arrays.items()}


def transitions(a, p):
    """P as a dense (S·A, S) array or a CSR matrix of the same shape."""
    S, A = p["S"], p["A"]
    if "indptr" in a:
        return scipy.sparse.csr_matrix((a["P"], a["indices"], a["indptr"]), shape=(S * A, S))
    return a["P"].reshape(S * A, S)


def soft_sweeps(P, r, S, A, gamma, tau, K):
    V = np.zeros(S)
    R = r.reshape(S, A)
    for _ in range(K):
        Q = R + gamma * (P @ V).reshape(S, A)
        m = Q.max(axis=1)
        V = m + tau * np.log(np.exp((Q - m[:, None]) / tau).sum(axis=1))
    return V


def p_pi(P, pi, S, A):
    """P_π (S × S): Σ_a π(a|s) P(·|s, a), dense or sparse like P."""
    if scipy.sparse.issparse(P):
        rows = np.repeat(np.arange(S), A)
        W = scipy.sparse.csr_matrix((pi, (rows, np.arange(S * A))), shape=(S, S * A))
        return (W @ P).tocsc()
    # a batched (1 × A)·(A × S) product per state: 3–4× faster here than einsum or a loop over a
    return np.matmul(pi.reshape(S, 1, A), P.reshape(S, A, S))[:, 0, :]


def lu_solve_system(P, pi, b, S, A, gamma, transpose):
    return lu_solve_built(np.eye(S) - gamma * p_pi(P, pi, S, A), b, transpose)


def lu_solve_built(M, b, transpose):
    lu = scipy.linalg.lu_factor(M, overwrite_a=True, check_finite=False)
    return scipy.linalg.lu_solve(lu, b, trans=1 if transpose else 0, check_finite=False)


def softmax_rows(Q, tau):
    z = (Q - Q.max(axis=1, keepdims=True)) / tau
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def soft_v(Q, tau):
    m = Q.max(axis=1)
    return m + tau * np.log(np.exp((Q - m[:, None]) / tau).sum(axis=1))


def hypergradient(P, x, rU, rho, p):
    """∇φ(x) of the GridWorld goal problem, as refHypergradient in bench/lib/bilevelReference.ts."""
    S, A, gamma, tau, mu, tol = p["S"], p["A"], p["gamma"], p["tau"], p["mu"], p["tol"]
    r = np.repeat(x, A).reshape(S, A)  # one-hot goal features: r(s, a) = x(s)
    RU = rU.reshape(S, A)
    I = scipy.sparse.identity(S, format="csc")

    def system(pi):
        return (I - gamma * p_pi(P, pi.ravel(), S, A)).tocsc()

    def entropy_reward(R, pi):
        with np.errstate(divide="ignore", invalid="ignore"):
            h = np.where(pi > 0, pi * np.log(pi), 0.0)
        return (pi * R).sum(axis=1) - tau * h.sum(axis=1)

    if p["solver"] == "policy-iteration":
        V = np.zeros(S)
        pi = softmax_rows(r + gamma * (P @ V).reshape(S, A), tau)
        for _ in range(100):
            V = scipy.sparse.linalg.spsolve(system(pi), entropy_reward(r, pi))
            Q = r + gamma * (P @ V).reshape(S, A)
            res = np.abs(soft_v(Q, tau) - V).max()
            pi = softmax_rows(Q, tau)
            if res <= tol:
                break
    else:
        # value iteration, with error bounds unless extrapolate is false (see softValueIteration)
        V = np.zeros(S)
        g = gamma / (1 - gamma)
        for _ in range(100000):
            Q = r + gamma * (P @ V).reshape(S, A)
            W = soft_v(Q, tau)
            d = W - V
            V = W
            if np.abs(d).max() <= tol:
                break
            lo, hi = d.min(), d.max()
            if p.get("extrapolate", True) and g * (hi - lo) / 2 <= tol:
                V = V + g * (lo + hi) / 2
        pi = softmax_rows(r + gamma * (P @ V).reshape(S, A), tau)

    M = system(pi)
    lu = scipy.sparse.linalg.splu(M)
    VU = lu.solve(((pi * RU).sum(axis=1)))
    QU = RU + gamma * (P @ VU).reshape(S, A)
    d = lu.solve(rho, trans="T")
    v = -pi * d[:, None] * QU
    bU = v.sum(axis=1) - gamma * (P.T @ v.ravel())
    w = lu.solve(bU, trans="T")
    return mu * x + (v - pi * w[:, None]).sum(axis=1) / tau


def run_case(c, d):
    a = load(d, c["arrays"])
    p = c["params"]
    kind = c["kind"]
    if kind == "sweep":
        P = transitions(a, p)
        return lambda: soft_sweeps(P, a["r"], p["S"], p["A"], p["gamma"], p["tau"], p["K"])
    if kind == "lu":
        P = transitions(a, p)
        M0 = np.eye(p["S"]) - p["gamma"] * p_pi(P, a["pi"], p["S"], p["A"])
        # second op: factor + solve on the built matrix (a copy each time: lu_factor overwrites it)
        return (lambda: lu_solve_system(P, a["pi"], a["b"], p["S"], p["A"], p["gamma"], p["transpose"]),
                lambda: lu_solve_built(M0.copy(), a["b"], p["transpose"]))
    if kind == "hypergradient":
        P = transitions(a, p)
        return lambda: hypergradient(P, a["x"], a["rU"], a["rho"], p)
    raise ValueError(f"unknown case kind {kind!r}")


def timed(op, min_samples, max_time):
    out = op()  # warm-up, and the result to check
    samples = []
    t_end = time.perf_counter() + max_time
    while len(samples) < min_samples or time.perf_counter() < t_end:
        t0 = time.perf_counter()
        op()
        samples.append((time.perf_counter() - t0) * 1e3)
        if len(samples) >= 1000:
            break
    return out, samples


def openblas_info():
    try:
        from threadpoolctl import threadpool_info  # optional

        return threadpool_info()
    except Exception:
        return None


def main():
    with open(sys.argv[1]) as f:
        man = json.load(f)
    d = man["dir"]
    only = set(man.get("only") or [])
    wall0 = time.perf_counter()
    res = {}
    for c in man["cases"]:
        if only and c["id"] not in only:
            continue
        op = run_case(c, d)
        extra = None
        if isinstance(op, tuple):
            op, op2 = op
            extra = timed(op2, man.get("minSamples", 5), man.get("maxTime", 1.0))[1]
        c0, w0 = time.process_time(), time.perf_counter()
        out, samples = timed(op, man.get("minSamples", 5), man.get("maxTime", 1.0))
        np.save(os.path.join(d, c["id"] + ".out.npy"), np.asarray(out, dtype=np.float64))
        res[c["id"]] = {
            "ms": float(np.median(samples)),
            "minMs": float(np.min(samples)),
            "samples": len(samples),
            "cpuS": time.process_time() - c0,
            "wallS": time.perf_counter() - w0,
            "out": c["id"] + ".out.npy",
        }
        if extra:
            res[c["id"]]["factorSolveMs"] = float(np.median(extra))
    print(json.dumps({
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "openblasThreads": os.environ.get("OPENBLAS_NUM_THREADS", "all"),
        "openblasCoretype": os.environ.get("OPENBLAS_CORETYPE", "auto"),
        "blas": openblas_info(),
        "cpuS": time.process_time(),  # whole process, imports included (all threads)
        "wallS": time.perf_counter() - wall0,
        "cases": res,
    }))


if __name__ == "__main__":
    main()
