"""ebm-study: how stable are an EBM's top features when it is retrained?"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ebm-study")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
