"""The sweep's study: its numbers, sentences, tables and pictures, and logging it on the parent.

`compute` (pure pandas), `labels`, `words`, `tables`, `plots`, `reference` (rows read:
near-twins and shapes), `publish` (from the store and back to it), `consensus` (the merge).
"""
