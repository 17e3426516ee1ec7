"""A burst of concurrent first requests loads the embedding model once, not once per request (found by the load
benchmark: 28 concurrent first HTTP requests took the server from 0.7 to 1.6 GB RSS, and kept it)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import resource, threading
from index.embeddings import get_embedder
embedder = get_embedder()
threads = [threading.Thread(target=embedder.encode, args=(["a question about mines"],)) for _ in range(12)]
for t in threads: t.start()
for t in threads: t.join()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def test_concurrent_first_encodes_load_one_model() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300)  # a fresh process
    assert done.returncode == 0, done.stderr
    peak_mb = int(done.stdout)
    # One model: ~0.35 GB peak here. One per thread (the bug): ~1.3 GB for 12 threads.
    assert peak_mb < 800, f"peak RSS {peak_mb} MB: the model was loaded more than once"
