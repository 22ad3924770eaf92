"""The cell contract and what every cell relies on; nothing here imports from outside
``core``.

=================  ==================================================================
``base``           :class:`~rnnzoo.core.base.RecurrentCell`: backend, params from a seed, the time loops
``cell_checks``    the input checks every cell runs (a mixin of the base)
``backend``        NumPy or CuPy: the cells reach CuPy only through it
``ops``            in-place activations, layer norm and modReLU, shared by the cells
``scan``           the linear scan h_t = a_t h_{t-1} + b_t (loop, doubling, log space)
``registry``       ``@register("<name>")``, ``make``, ``available``
``validation``     the shared argument validators (``check_int``, ``check_float``, ...)
``gradcheck``      the finite-difference checker
``diagnostics``    gradient norm over time, step-Jacobian singular values
``torch_interop``  ``from_torch`` / ``to_torch`` for rnn, lstm and gru
``subnormals``     ``flush_subnormals()``: subnormal floats read and written as 0, for speed
=================  ==================================================================
"""
