"""Every name ebm-study writes into MLflow, once: run tags, metric names, artifact paths.

The code that writes a name and the code that reads it both take it from here, so they cannot
drift. No MLflow import: the pure layers (`measures/`, `fit/`, `study/compute.py`) and
`settings` use these names too.
"""

# ---------------------------------------------------------------------------------------------
# Run tags. The UI can filter and group on them.

ROLE = "ebm_study.role"  # ROLE_SWEEP on a sweep's parent run, ROLE_JOB on each child
ROLE_SWEEP = "sweep"
ROLE_JOB = "job"
ROLE_CONSENSUS = "consensus"  # a merged model's run under a sweep's parent: not one of its jobs
# A setting's summary under a sweep's parent (study/publish.py): its params, mean score and
# stability with their intervals, so the runs table and charts compare settings, not jobs. Never
# a job: not studied, not promoted, not counted.
ROLE_SETTING = "setting"
RECOMMENDED = "ebm_study.recommended"  # on a setting's run: "true" for the recommended one
# On a setting's run, its setting in words: not `setting`, so that grouping jobs by their
# setting tag in the UI counts jobs only.
SUMMARY_OF = "ebm_study.summary_of"
MERGED_RUNS = "ebm_study.merged_runs"  # on a consensus run and its version: the runs merged
SWEEP_DIR = "ebm_study.sweep_dir"  # Hydra's sweep dir: unique per launch, known to every job
SWEPT = "ebm_study.swept"  # comma-separated config keys the sweep varies
SWEEP_KEY = "ebm_study.sweep_key"  # the same command, restarted, finds its sweep by this
CONFIG_KEY = "config_key"  # a hash of the setting without its seeds: runs of one setting
SETTING = "setting"  # the same, readable: `learning_rate=0.05` (what "group by" shows)
RUN_KEY = "ebm_study.run_key"  # setting and seeds: runs with one run_key are the same fit
HOST = "ebm_study.host"  # the machine that ran it
PROCESS = "ebm_study.process"  # host|boot id|pid|start ticks of the process running it
HEARTBEAT = "ebm_study.heartbeat"  # seconds since the epoch, renewed while it runs
ORPHANED = "ebm_study.orphaned"  # when a run left RUNNING by a gone process was closed
POSITIVE_CLASS = "positive_class"  # the class a two-class run's F1, precision, recall are about
TASK = "ebm_study.task"  # classification or regression: the `task` param, `auto` resolved
LAUNCHER = "ebm_study.launcher"  # the Hydra launcher that ran a sweep's job: BasicLauncher, ...
PACKAGE_VERSION = "ebm_study.version"
VERSIONS_PREFIX = "versions."  # versions.<package>: the libraries that shape results
ERROR = "error"  # one line: why the run is FAILED or KILLED
WARNINGS = "ebm_study.warnings"  # a job's: what the libraries warned of while it fit, one a line
RUN_WARNING = (
    "ebm_study.warning"  # a job's: why its F1 misleads (a class never predicted), in words
)
REFERENCE = "ebm_study.reference_rows"  # a parent's: the rows its shapes and near-twins read
REASON_ROWS = "ebm_study.reason_rows"  # a parent's: the rows its per-row study reads
MIGRATED_FROM = "ebm_study.migrated_from"  # on a migrated copy: the source run or model id
SWEEPER = "ebm_study.sweeper"  # on a parent: adaptive or stability_search (none: Hydra's basic)
SEED_RULE = "ebm_study.seeds"  # on a parent: how seeds were drawn, in words
SEARCH = "ebm_study.search"  # on a search's parent: trials and sampler, in words
OPTUNA_STUDY = "ebm_study.optuna_study"  # on a search's parent: the Optuna study's name
OPTUNA_STORAGE = "ebm_study.optuna_storage"  # ... and its storage (password masked)
TRIAL = "ebm_study.trial"  # on a search's job: the Optuna trial number its setting was

# How the study read the runs, on the parent run (settings.py writes and reads them).
STUDY_TOP_K = "study.top_k"
STUDY_TERMS = "study.terms"
STUDY_RBO_P = "study.rbo_p"
STUDY_CORR_THRESHOLD = "study.corr_threshold"
STUDY_OBJECTIVE = "study.objective"
STUDY_METRIC = "study.metric"
STUDY_MIN_STABILITY = "study.min_stability"
STUDY_RELIABLE = "study.reliable"
STUDY_NEAR_BEST = "study.near_best"
STUDY_TOP_REASONS = "study.top_reasons"
STUDY_REFERENCE_ROWS = "study.reference_rows"
STUDY_REFERENCE = "study.reference"

# MLflow's own tags.
PARENT = "mlflow.parentRunId"
RUN_NAME = "mlflow.runName"  # what the runs list shows; set again when a name changes
NOTE = "mlflow.note.content"  # the run's description in the UI (Markdown)
GIT_COMMIT = "mlflow.source.git.commit"

# ---------------------------------------------------------------------------------------------
# Metrics beyond a job's test scores (metric_names.py names those).

FIT_SECONDS = "fit_seconds"
ROWS_DROPPED = "rows_without_target"  # rows left out for a missing target (drop_missing_target)
MAX_ROUNDS = "max_rounds"  # the round cap the fit had (model.max_rounds, `auto` resolved)
BOOSTING_ROUNDS_MAX = "boosting_rounds_max"  # the most rounds any outer bag boosted
BAGS_AT_MAX_ROUNDS = "bags_at_max_rounds"  # outer bags that never early-stopped
STABILITY_PREFIX = "stability_"  # the study's measures on the parent: stability_nogueira, ...
MEAN_PREFIX = "mean_"  # mean_f1 or mean_r2: the sweep's mean test score, beside its stability
SHAPE_AGREEMENT = "shape_agreement_top_k"  # the mean agreement of the top terms' shapes
WITHIN_RUN = "stability_within_run"  # a job's Phi over its outer bags; the parent's: their mean
SETTING_STABILITY = "stability_nogueira"  # on each job after the study: its setting's Phi
N_RUNS = "n_runs"  # the sweep's counts on its parent run
N_FINISHED = "n_finished"
N_FAILED = "n_failed"
N_AT_MAX_ROUNDS = "n_runs_at_max_rounds"  # the study's count of runs with a bag at the cap

# ---------------------------------------------------------------------------------------------
# Artifacts. A job's:

CONFIG_YAML = "config/config.yaml"  # the resolved config
OVERRIDES = "config/overrides.txt"  # the Hydra overrides, one a line
IMPORTANCE_TABLE = "importance.json"  # rank, term, importance, kind
IMPORTANCE_CHART = "importance.png"
ERROR_TRACE = "error.txt"  # a FAILED run's traceback
MODEL = "model"  # the logged model's name within its run: runs:/<run id>/model

# A sweep's parent run's:
STABILITY_BY_CONFIG = "stability_by_config.json"
TOPK_FREQUENCY = "topk_frequency.json"
TOPK_FREQUENCY_CHART = "topk_frequency.png"
RANK_HEATMAP = "rank_heatmap.png"
SHAPE_STABILITY = "shape_stability.json"  # per top term: n_runs, agreement, reading
SHAPES_DIR = "shapes"  # shapes/<term>.png: every run's shape function of the term
TERM_GROUPS = "term_groups.json"  # near-twin features: group, term, max_abs_corr, share
SEEDS_BY_SETTING = "seeds_by_setting.json"  # seeds on demand: seeds_used, stopped, per setting
PARETO_FRONT = "pareto_front.json"  # the settings no other beats on both accuracy and stability
# Every setting's score against its stability, both intervals, the front, the recommended one
# and those that cannot be told from it: one picture (it replaced pareto_front.png and
# stability_vs_f1.png, which drew nearly the same).
ACCURACY_CHART = "accuracy_vs_stability.png"
ORDERINGS = "orderings.json"  # neighbouring terms around the top k: is a above b, how sure
RELIABLE_TOP_K = "reliable_top_k.json"  # per term: top-k frequency, its lower bound, reliable
N_RELIABLE = "n_reliable_top_k"  # the parent's count of reliably-top terms
GROUP_TOPK = "group_topk_frequency.json"  # near-twin groups and single terms ranked together
STABILITY_GROUPS = "stability_groups"  # Phi of that ranking's top k, with _ci_low/_ci_high
NEAR_BEST = "near_best.json"  # per term over the near-best runs: importance range, top-k share
NEAR_BEST_CHART = "near_best.png"
# The per-row study (study/rows.py): a row a reference row, its reasons and their shares; and a
# picture of how many rows keep their top reason and which terms trade it. Its metrics:
REASONS_TABLE = "reasons.json"
REASONS_CHART = "reasons.png"
REASONS_BY_SETTING = "reasons_by_setting.json"  # the same measures within each setting
REASON_AGREEMENT = "reason_agreement"  # rows whose top reason is one in >= 90% of retrains
REASON_STABILITY = "reason_stability"  # the mean over rows of their top reasons' Phi
PREDICTION_CHURN = "prediction_churn"  # a class changed between two retrains (regression: the
# spread across retrains against each model's own standard error from its bags)
PREDICTION_CHURN_NEAR_BOUNDARY = "prediction_churn_near_boundary"  # the same, rows near it
PREDICTION_SPREAD = "prediction_spread"  # a regression's: across retrains, the target's units
PREDICTION_BAG_SPREAD = "prediction_bag_spread"  # ... and the models' own, from their bags
GROUPS_SUFFIX = "_groups"  # reason_agreement_groups ...: each near-twin group as one reason
# The study's metrics that a recomputed study may no longer have (no model, no group, no row
# near the boundary): set to NaN then, never left from an earlier study.
OPTIONAL_METRICS = ("reason_", "prediction_", "stability_groups", "shape_agreement")
STUDY_PAGE = "study.html"  # the study on one page: verdict, table, pictures (study/page.py)

# ---------------------------------------------------------------------------------------------
# The model registry.

CHAMPION = "champion"  # the alias `ebm-study-promote` moves: models:/<name>@champion
# Tags of a registered version: where it came from and why it was chosen.
VERSION_RUN = "run_id"
VERSION_SWEEP = "sweep_run_id"
VERSION_CONFIG_KEY = CONFIG_KEY
VERSION_SETTING = SETTING
VERSION_PROMOTED_BY = "promoted_by"
VERSION_TOP_TERMS = "top{k}_terms"  # top5_terms
VERSION_STABILITY = "stability_nogueira"
VERSION_STABILITY_CI = "stability_nogueira_ci"
VERSION_CONSENSUS = "consensus"  # "true" on a version that is a merge of several runs
VERSION_METRIC_PREFIX = "metric."  # metric.f1, ...
