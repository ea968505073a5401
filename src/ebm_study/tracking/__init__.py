"""Every MLflow call of ebm-study, one module a concern.

- `tags`    every tag, metric and artifact name the project writes (no MLflow import)
- `store`   connecting to a store, the server probe, a server's 401/403 as one-line errors
- `runs`    one job's run: its lifecycle, config, dataset, results and provenance
- `sweeps`  a sweep's parent run: opening, resuming and closing it, reading its jobs
- `orphans` runs left RUNNING by a process that is gone, found and closed KILLED
- `artifacts` JSON tables on runs: importance tables read in bulk, the study logged
- `migration` copying runs, models and the registry from one store to another
- `models`  logged models, registered versions, the champion alias, loading a model
- `bulk`    a sweep's jobs read in bulk from a database store's tables (10,000 runs in 0.4 s)
- `launches` one launch at a time per sweep: a second is refused in one line

Import the submodule you need (`from ebm_study.tracking import store`): this package imports
nothing itself, so the pure modules can read `tags` without paying for MLflow's import.
"""
