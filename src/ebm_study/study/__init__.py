"""The sweep's study: its numbers, sentences, tables and pictures, and logging it on the parent.

`compute` (pure pandas), `paired` (two settings' stability compared), `labels`, `words`,
`tables`, `plots`, `reference` (rows read: near-twins and shapes), `findings` (what holds:
orderings, the reliably-top set, near-best models), `groups` (near-twin groups as units, from
the runs' models), `verdicts` (what holds, in words), `cloud` (the near-best picture),
`publish` (from the store and back to it), `consensus` (the merge).
"""
