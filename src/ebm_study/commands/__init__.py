"""The console scripts, one a file: `train` (ebm-study), `report`, `promote`, `predict`,
`migrate`, `ui`; `cli` holds what they share in choosing a store and a sweep.
"""
