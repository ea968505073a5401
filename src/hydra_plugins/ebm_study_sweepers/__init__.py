"""ebm-study's Hydra sweepers (`hydra/sweeper=adaptive`, `hydra/sweeper=stability_search`, and
`basic`, the default: Hydra's basic sweeper composing each job's config once) and the joblib
launcher with warm workers (`hydra/launcher=joblib`, launchers.py).

Hydra finds sweepers only in its `hydra_plugins` namespace package; these classes are thin, and
the work is in ebm_study.sweep.sweepers, imported when a sweep starts (Hydra imports every plugin
module in every process, jobs included, so nothing heavy is imported here).
"""
