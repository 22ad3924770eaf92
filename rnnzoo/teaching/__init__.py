"""Teaching: what the notebooks and the figures show, and how a course hands them out.

=================  ==================================================================
``experiments/``   honest comparisons: seeds in parallel, fair defaults, claims as checks
``figures/``       the figures command: one module per cell family, claims on the data
``selfcheck``      the exercises' self-checks (step pairs, values, stubs)
``assignments``    the student notebooks, generated from the solutions
=================  ==================================================================
"""
