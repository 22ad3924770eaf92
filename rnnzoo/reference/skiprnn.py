r"""Textbook Skip RNN (Campos et al., 2018): a binary gate u_t decides whether the
wrapped cell S (any step-wise textbook cell) updates the state at step t.

.. math::

    u_t = \mathrm{round}(\tilde u_t), \quad
    s_t = u_t\, S(s_{t-1}, x_t) + (1 - u_t)\, s_{t-1}, \quad
    \Delta\tilde u_t = \sigma(w_p \cdot s_t + b_p), \\
    \tilde u_{t+1} = u_t \Delta\tilde u_t
        + (1 - u_t)(\tilde u_t + \min(\Delta\tilde u_t, 1 - \tilde u_t))

The state is (s..., ũ): the base's state, then ũ (B, 1). Δũ reads the state entry
``p_index`` (the base's c if it has one, else h). The budget loss λ Σ_t u_t (averaged
over the batch) is part of the cell: each step's cache holds its share ``aux_loss`` and
the backward includes its gradient λ / B.

**The gradient of round is a definition, not a derivative.** round has derivative 0
almost everywhere; backward uses the straight-through estimator
dL/dũ_t += ``surrogate_slope`` · dL/du_t with slope 1 (Bengio, Léonard & Courville,
2013). ``soft=True`` uses u_t = ũ_t instead, which is differentiable (slope 1 exactly).
"""
from __future__ import annotations

import numpy as np

from .core import REFERENCES, get, missing_options, register_steps, sigmoid


def stepwise(base):
    """The base's textbook twin, which this one steps a step at a time: a base whose twin
    runs only a whole sequence (qrnn's pooling) has no Skip RNN twin, and says so."""
    ref = get(base)
    if ref.step_forward is None:
        bases = sorted(n for n, r in REFERENCES.items() if r.step_forward and n != "skiprnn")
        raise ValueError(f"skiprnn's textbook twin steps its base one step at a time; base "
                         f"{base!r} has a whole-sequence twin only, so this Skip RNN has no "
                         f"textbook twin (step-wise bases: {', '.join(bases)})")
    return ref


def base_twin(base, base_options):
    """:func:`stepwise`, and a base_options without the options the base's twin needs
    (numbers the parameters do not hold) refused by name, before any step."""
    ref = stepwise(base)
    missing = missing_options(ref.required_options, base_options or {})
    if missing:
        raise TypeError(f"skiprnn's base {base!r} needs the option(s) {missing} in "
                        f"base_options, which the parameters do not hold; pass the Skip "
                        f"RNN cell's: **rnnzoo.reference.get('skiprnn').options_of(cell)")
    return ref


def default_base(params):
    """The base when none is given: "gru", the cell's default, if the parameters are a
    GRU's (base.W_ih, base.W_hh, base.b_ih, base.b_hh, 3 H rows each, H = w_p's width);
    else a TypeError asking for the base (the twin does not guess it from the shapes)."""
    base = {k[len("base."):]: v.shape for k, v in params.items() if k.startswith("base.")}
    H = params["w_p"].shape[-1]
    if sorted(base) == ["W_hh", "W_ih", "b_hh", "b_ih"] and base["W_hh"] == (3 * H, H) \
            and base["W_ih"][0] == 3 * H and base["b_ih"] == base["b_hh"] == (3 * H,):
        return "gru"
    shapes = ", ".join(f"base.{k} {v}" for k, v in base.items())
    raise TypeError(f"the textbook skiprnn needs the option 'base' (and the base's "
                    f"base_options): its parameters ({shapes}) are not a GRU's, the "
                    f"default base; pass the cell's: "
                    f"**rnnzoo.reference.get('skiprnn').options_of(cell)")


def step_forward(x_t, state_prev, params, base=None, base_options=None, soft=False,
                 budget=0.0, p_index=0, surrogate_slope=1.0):
    """One step: (s_{t-1}..., ũ_t) -> (s_t..., ũ_{t+1}); base None: a GRU (default_base)."""
    base = default_base(params) if base is None else base
    s_prev, u_tilde = tuple(state_prev[:-1]), state_prev[-1]
    base_ref = base_twin(base, base_options)
    base_params = {k[len("base."):]: v for k, v in params.items() if k.startswith("base.")}
    w_p, b_p = params["w_p"], params["b_p"]
    u = u_tilde if soft else np.rint(u_tilde)            # u_t = round(ũ_t)  (soft: ũ_t)
    cand, base_cache = base_ref.step_forward(x_t, s_prev, base_params,
                                             **(base_options or {}))   # S(s_{t-1}, x_t)
    s = tuple(u * c + (1.0 - u) * p for c, p in zip(cand, s_prev))   # s_t = u S + (1 - u) s_{t-1}
    delta = sigmoid(s[p_index] @ w_p.T + b_p)            # Δũ_t = sigma(w_p . s_t + b_p)
    grow = u_tilde + np.minimum(delta, 1.0 - u_tilde)    # ũ_t + min(Δũ_t, 1 - ũ_t)
    u_tilde_next = u * delta + (1.0 - u) * grow          # ũ_{t+1} = u Δũ_t + (1 - u) grow
    cache = {"u": u, "u_tilde": u_tilde, "delta": delta, "grow": grow, "s": s,
             "s_prev": s_prev, "cand": cand, "base_cache": base_cache, "base": base,
             "p_index": p_index, "w_p": w_p, "budget": budget, "soft": soft,
             "surrogate_slope": surrogate_slope,
             "aux_loss": budget * float(u.sum()) / x_t.shape[0]}   # λ Σ_b u_t / B
    return s + (u_tilde_next,), cache


def step_backward(dstate, cache):
    """dL/d(s_t..., ũ_{t+1}) -> dL/dx_t, dL/d(s_{t-1}..., ũ_t), this step's dL/dparams."""
    ds, du_tilde_next = list(dstate[:-1]), dstate[-1]
    u, u_tilde, delta, grow = cache["u"], cache["u_tilde"], cache["delta"], cache["grow"]
    s, s_prev, cand, k = cache["s"], cache["s_prev"], cache["cand"], cache["p_index"]
    picks_delta = (delta < 1.0 - u_tilde).astype(float)  # where min(Δ, 1 - ũ) is Δ
    # ũ_{t+1} = u Δ + (1 - u) grow, grow = ũ + min(Δ, 1 - ũ): Δ in both terms
    d_delta = du_tilde_next * (u + (1.0 - u) * picks_delta)
    du = du_tilde_next * (delta - grow)                  # ũ_{t+1} = u Δ + (1 - u) grow
    du_tilde = du_tilde_next * (1.0 - u) * picks_delta   # grow = ũ + min(Δ, 1 - ũ)
    dpre = d_delta * delta * (1.0 - delta)               # Δ = sigma(w_p . s_t + b_p)
    grads = {"w_p": dpre.T @ s[k], "b_p": dpre.sum(axis=0)}   # w_p . s_t + b_p
    ds[k] = ds[k] + dpre @ cache["w_p"]                  # w_p . s_t
    for d, c, p in zip(ds, cand, s_prev):                # every entry of the state
        du = du + (d * (c - p)).sum(axis=1, keepdims=True)   # s_t = u S + (1 - u) s_{t-1}
    du = du + cache["budget"] / u.shape[0]               # budget loss λ Σ u_t / B
    dcand = tuple(u * d for d in ds)                     # s_t = u S + ..
    base_backward = REFERENCES[cache["base"]].step_backward
    dx, dprev, dbase = base_backward(dcand, cache["base_cache"])   # S(s_{t-1}, x_t)
    ds_prev = tuple((1.0 - u) * d + dp for d, dp in zip(ds, dprev))   # (1 - u) s_{t-1}; S(s_{t-1})
    slope = 1.0 if cache["soft"] else cache["surrogate_slope"]
    du_tilde = du_tilde + slope * du                     # u = round(ũ): straight-through
    grads.update({f"base.{name}": g for name, g in dbase.items()})   # S's parameters
    return dx, ds_prev + (du_tilde,), grads


def options_of(cell):
    base_ref = stepwise(cell.base)
    return {"base": cell.base, "base_options": base_ref.options_of(cell.cell),
            "soft": cell.soft, "budget": cell.budget, "p_index": cell.p_index,
            "surrogate_slope": cell.surrogate_slope}


def initial_state(batch, params, base=None, base_options=None, **options):
    """The base's initial state, then ũ_1 = 1 (B, 1): the first step always updates."""
    base = default_base(params) if base is None else base
    base_params = {k[len("base."):]: v for k, v in params.items() if k.startswith("base.")}
    s0 = base_twin(base, base_options).initial_state(batch, base_params, **(base_options or {}))
    return tuple(s0) + (np.ones((batch, 1), dtype=params["w_p"].dtype),)


register_steps("skiprnn", step_forward, step_backward, options_of, initial_state=initial_state)
