"""The formulas of the study, pure numpy and pandas: every measure, its intervals, no I/O.

`stability` (top-k set and rank measures), `by_split` (the same under the seed design),
`intervals`, `redundancy` (near-twin features), `shapes` (agreement of shape functions),
`pareto` (the accuracy-stability front), `conclusions` (orderings, the reliably-top set,
near-best ranges).
"""
