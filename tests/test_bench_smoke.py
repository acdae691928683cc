"""`bench/pipeline.py --smoke` runs in `make test`, so the benchmark cannot rot unnoticed.

Its figures mean nothing on a busy test machine; what is checked is that every phase ran, every event
arrived exactly once, and the report (written as JSON too) carries the figures the README quotes.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

BENCH = Path(__file__).parent.parent / "bench" / "pipeline.py"


def test_the_bench_smoke_run_delivers_every_event_once_and_reports(
    rabbitmq_url: str, postgres_admin_url: str, tmp_path: Path
) -> None:
    report = tmp_path / "bench.json"
    completed = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--smoke",
            "--json",
            str(report),
            "--rabbitmq-url",
            rabbitmq_url,
            "--postgres-url",
            postgres_admin_url.replace("+asyncpg", ""),
        ],
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "Every event applied exactly once: yes" in completed.stdout

    summary = json.loads(report.read_text())
    assert summary["exactly_once"] is True
    names = [phase["name"] for phase in summary["phases"]]
    assert [name.split()[0] for name in names] == ["1", "2", "3", "4a", "4b", "5a", "5b", "5c"]
    for phase in summary["phases"]:
        assert phase["rate"] > 0
        assert phase["cpu_ms_per_event"]["total"] > 0
        assert phase["cpu_vs_raw"] > 0
    end_to_end = [phase for phase in summary["phases"] if phase["name"].startswith("4")]
    assert all(phase["lost"] == 0 and phase["applied_twice"] == 0 for phase in end_to_end)
    assert all(phase["latency_ms"]["p99"] > 0 for phase in end_to_end)
    fan_out = [phase for phase in summary["phases"] if phase["name"].startswith("5")]
    assert all(phase["lost"] == 0 and phase["applied_twice"] == 0 for phase in fan_out)  # each delivery sent once
    assert all(phase["others_rate"] > 0 for phase in fan_out[1:])
    assert {target["target"] for target in summary["targets"]} >= {
        "p99 at 200/s <= 5 ms",
        "CPU per event at 200/s <= 3 ms",
        "unpaced rate >= 0.2 x raw consume",
        "CPU per event unpaced <= 1.5 ms",
        "webhook fan-out >= 1000 deliveries/s",
        "a receiver sleeping 10 s lowers the others' rate by < 10%",
    }
