"""Teaching: what the notebooks and the figures show, and how a course hands them out.

=================  ==================================================================
``experiments/``   honest comparisons: seeds in parallel, fair defaults, claims as checks
``figures/``       the figures command: one module per cell family, claims on the data
``selfcheck``      the exercises' self-checks (step pairs, values, stubs)
``assignments``    the solution notebooks' markers and a cell's student version
``nbgrader_kit``   the course kit: an nbgrader course directory made from the solutions
=================  ==================================================================
"""
