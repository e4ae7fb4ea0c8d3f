"""Message round-trip through the REST channel: the full Gehoor stack (Rasa + action server +
listening + story store) against a stock Rasa bot with the same NLU and no custom actions,
measured in the same run, sequentially.

    .venv/bin/python bench/bench_roundtrip.py [--messages 200]

Targets (issue 3): p50 within 1.3x of the stock bot; p95 <= 150 ms sequential on 2 cores.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import record  # noqa: E402

from bench.servers import BIN, post, rasa_servers  # noqa: E402
from bot.run import latest_model  # noqa: E402

CONVERSATION = [
    "hoi", "4", "Ik moest weer drie keer bellen voordat iemand mijn factuur wilde aanpassen",
    "Ik had verwacht dat het bij het eerste telefoontje geregeld zou zijn",
    "Het kostte me een hele middag", "dat was het", "ja klopt", "nee hoor",
]


def stock_project(workdir: Path) -> Path:
    """Same pipeline and NLU data; every intent answered by a plain response, no custom action."""
    project = workdir / "stock"
    (project / "data").mkdir(parents=True)
    shutil.copy(ROOT / "data" / "nlu.yml", project / "data" / "nlu.yml")
    config = yaml.safe_load((ROOT / "config.yml").read_text())
    config["policies"] = [{"name": "RulePolicy"}]
    (project / "config.yml").write_text(yaml.safe_dump(config))
    intents = yaml.safe_load((ROOT / "domain.yml").read_text())["intents"]
    domain = {"version": "3.1", "intents": intents, "responses": {"utter_ack": [{"text": "Dank je."}]}}
    (project / "domain.yml").write_text(yaml.safe_dump(domain))
    rules = {"version": "3.1", "rules": [
        {"rule": f"answer {i}", "steps": [{"intent": i}, {"action": "utter_ack"}]} for i in intents + ["nlu_fallback"]]}
    (project / "data" / "rules.yml").write_text(yaml.safe_dump(rules))
    # The same tracker store as Gehoor's default profile (SQL on SQLite), no action endpoint.
    tracker_store = yaml.safe_load((ROOT / "endpoints.yml").read_text())["tracker_store"]
    (project / "endpoints.yml").write_text(yaml.safe_dump({"tracker_store": tracker_store}).replace(
        "'${GEHOOR_TRACKER_DB}'", "${GEHOOR_TRACKER_DB}"))
    return project


def measure(url: str, messages: int, prefix: str) -> list:
    latencies, conversation = [], 0
    while len(latencies) < messages:
        conversation += 1
        for text in CONVERSATION:
            started = time.perf_counter()
            post(url, f"{prefix}-{conversation}", text)
            latencies.append((time.perf_counter() - started) * 1000)
            if len(latencies) >= messages:
                break
    return latencies


def pct(values: list, q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    model = latest_model()
    if model is None:
        print("no trained model: run `gehoor train` first", file=sys.stderr)
        return 1
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2")
    with tempfile.TemporaryDirectory(prefix="gehoor-roundtrip-") as tmp:
        workdir = Path(tmp)
        project = stock_project(workdir)
        subprocess.run([str(BIN / "rasa"), "train", "--out", str(project / "models")], cwd=project, env=env,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stock_model = next((project / "models").glob("*.tar.gz"))
        with rasa_servers(model, workdir) as gehoor_url, \
                rasa_servers(stock_model, workdir, with_actions=False, project=project) as stock_url:
            measure(gehoor_url, 16, "warm-g"), measure(stock_url, 16, "warm-s")
            # Interleave the two so background load hits both alike.
            gehoor, stock = [], []
            for block in range(args.messages // 40 or 1):
                gehoor += measure(gehoor_url, 40, f"g{block}")
                stock += measure(stock_url, 40, f"s{block}")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; {len(gehoor)} messages each")
    print(f"{'stack':34} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for name, values in (("Gehoor (custom actions + store)", gehoor), ("stock Rasa (no custom action)", stock)):
        print(f"{name:34} {statistics.median(values):8.1f} {pct(values, 95):8.1f} {pct(values, 99):8.1f}")
    ratio = statistics.median(gehoor) / statistics.median(stock)
    record("REST round trip, Gehoor, p50", statistics.median(gehoor), "ms")
    record("REST round trip, Gehoor, p95", pct(gehoor, 95), "ms", "<= 150", pct(gehoor, 95) <= 150)
    record("REST round trip, stock Rasa (no custom action), p50", statistics.median(stock), "ms")
    record("REST round trip p50 ratio Gehoor / stock", ratio, "x", "<= 1.3", ratio <= 1.3)
    print(f"p50 ratio Gehoor / stock: {ratio:.2f} (target <= 1.3); Gehoor p95 target <= 150 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
