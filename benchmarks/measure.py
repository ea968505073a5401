"""Run a command and print its wall time and its processes' CPU time and peak memory as JSON.

A process of its own per measurement, so RUSAGE_CHILDREN covers that command alone.
"""

import json
import resource
import subprocess
import sys
import time

start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(
    json.dumps(
        {
            "returncode": done.returncode,
            "wall": wall,
            "cpu": usage.ru_utime + usage.ru_stime,
            "peak_rss_mib": usage.ru_maxrss / 1024,
            "stdout": done.stdout[-4000:],
            "stderr": done.stderr[-4000:],
        }
    )
)
