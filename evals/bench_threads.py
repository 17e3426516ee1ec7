"""Benchmark: llama.cpp threads 1 vs 2 for the embedded models, on idle-ish cores and with one core kept busy.

    .venv/bin/python -m evals.bench_threads [MODEL ...]     (default: tiny quality quality-small; installed ones)

Each configuration runs in a fresh child process (clean RSS): start the embedded server (load time), one warm-up
token, then one chat completion over a fixed ~450-token prompt; prompt and generation tokens/s come from
llama.cpp's own `timings`. "busy" starts `python -c 'while 1: pass'` beside it for the run. Prints one table and
the 1-minute load average before each row (the cores are shared: compare ratios within one run).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

PROMPT = (
    "Sources:\n"
    + "\n".join(
        f"[{i}] The council of town {i} approved a budget of {i * 7} million for roads, schools and a new library "
        f"on the {i}th of March, after a debate that lasted {i + 2} hours and ended with a vote of {i + 5} to 2."
        for i in range(1, 11)
    )
    + "\n\nQuestion: Which town approved the largest budget, and how long was its debate? Answer in two sentences, "
    "citing sources as [n]."
)
GEN_TOKENS = 64


def one(model: str, threads: int) -> dict:
    import httpx

    from service.config import Settings
    from service.llm import start_embedded_server

    settings = Settings(_env_file=None, llm=model, llm_threads=threads)
    started = time.monotonic()
    server = start_embedded_server(settings)
    load_s = time.monotonic() - started
    url = f"{server.listening_address}/v1/chat/completions"
    with httpx.Client(timeout=600) as http:
        http.post(url, json={"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1})
        t0 = time.monotonic()
        reply = http.post(
            url,
            json={"messages": [{"role": "user", "content": PROMPT}], "max_tokens": GEN_TOKENS, "temperature": 0},
        ).json()
        wall = time.monotonic() - t0
    timings = reply.get("timings", {})
    rss_mb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) / 1024
    del server
    return {
        "load_s": round(load_s, 2),
        "prompt_tokens": timings.get("prompt_n"),
        "prompt_tps": round(timings.get("prompt_per_second", 0.0), 1),
        "gen_tokens": timings.get("predicted_n"),
        "gen_tps": round(timings.get("predicted_per_second", 0.0), 1),
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(rss_mb),
    }


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--one":
        print(json.dumps(one(argv[1], int(argv[2]))))
        return
    from service.config import Settings
    from service.model_files import default_models_dir, model_path, model_spec

    models = argv or ["tiny", "quality", "quality-small"]
    models_dir = Settings(_env_file=None).models_dir or default_models_dir()
    models = [m for m in models if model_path(model_spec(m), models_dir).is_file()]
    print(f"{'model':14} {'load':5} {'thr':3} {'loadavg':7} {'load_s':>6} {'pp tok/s':>8} {'gen tok/s':>9} "
          f"{'wall_s':>6} {'rss MB':>6}")
    for model in models:
        for busy in (False, True):
            for threads in (1, 2):
                hog = subprocess.Popen([sys.executable, "-c", "while 1: pass"]) if busy else None
                try:
                    time.sleep(1.0 if busy else 0.0)
                    loadavg = os.getloadavg()[0]
                    done = subprocess.run(
                        [sys.executable, "-m", "evals.bench_threads", "--one", model, str(threads)],
                        capture_output=True, text=True, check=True,
                    )
                finally:
                    if hog is not None:
                        hog.kill()
                        hog.wait()
                r = json.loads(done.stdout.strip().splitlines()[-1])
                print(f"{model:14} {'busy' if busy else 'idle':5} {threads:3} {loadavg:7.2f} {r['load_s']:6.2f} "
                      f"{r['prompt_tps']:8.1f} {r['gen_tps']:9.1f} {r['wall_s']:6.2f} {r['peak_rss_mb']:6}",
                      flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
