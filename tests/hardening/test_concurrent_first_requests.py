"""A burst of concurrent first requests loads the embedding model once, not once per request (found by the load
benchmark: 28 concurrent first HTTP requests took the server from 0.7 to 1.6 GB RSS, and kept it)."""

from __future__ import annotations

import json
import subprocess
import sys

# Counts model constructions and reads VmHWM (this process's own peak). Not getrusage's ru_maxrss: Linux carries
# it over from the parent across vfork + exec, so it reported the pytest process's peak, not the probe's.
PROBE = """
import json, threading
import index.embeddings as embeddings
loads = []
original_init = embeddings._OnnxMiniLM.__init__
def counting_init(self, *args, **kwargs):
    loads.append(1)
    original_init(self, *args, **kwargs)
embeddings._OnnxMiniLM.__init__ = counting_init
embedder = embeddings.get_embedder()
threads = [threading.Thread(target=embedder.encode, args=(["a question about mines"],)) for _ in range(12)]
for t in threads: t.start()
for t in threads: t.join()
status = open("/proc/self/status").read().splitlines()
peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"loads": len(loads), "peak_mb": peak_kb // 1024}))
"""


def test_concurrent_first_encodes_load_one_model() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300)  # a fresh process
    assert done.returncode == 0, done.stderr
    probe = json.loads(done.stdout)
    assert probe["loads"] == 1, f"the model was loaded {probe['loads']} times by 12 concurrent first requests"
    # One model: ~0.35 GB peak here. One per thread (the bug): ~1.3 GB for 12 threads.
    assert probe["peak_mb"] < 800, f"peak RSS {probe['peak_mb']} MB: the model was loaded more than once"
