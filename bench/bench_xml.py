"""Save and restore of a big queue as XML: time and peak memory of each phase.

    python bench/bench_xml.py [--frames 100000] [--json]

``run(frames=100_000) -> dict`` is what a benchmark suite calls.  Each phase runs in a fresh child process so its
peak resident memory (ru_maxrss, which also sees libxml2's C allocations) is its own; ``peak_mib`` is the growth
over the child's resident size after imports, ``seconds`` the phase's wall time.  Phases:

    save      write_queue to a file, frames generated one at a time (as a store's cursor would feed them)
    records   iter_records over the file, each record dropped at once (a store restoring row by row)
    load      load_queue: the whole job dictionary in memory (grows with the queue by nature)
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Iterator, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUBJOBS = 4
STDOUT = "".join("00:00:%02d   505MB         |     %d%% done - 27 rays/pixel\n" % (i, i * 5) for i in range(12))


def _frames(start: int, count: int) -> Iterator[tuple]:
    for number in range(start, start + count):
        yield number, {
            "status": "Complete", "host": "render%02d" % (number % 40), "pid": 10000 + number,
            "command": "render -r mr -v 5 -s %d -e %d /proj/shot010/scene.mb" % (number, number),
            "argv": ["render", "-r", "mr", "-v", "5", "-s", str(number), "-e", str(number),
                     "/proj/shot010/scene.mb"],
            "stdout": STDOUT, "attempts": 1, "exit_code": 0, "progress": 100,
            "started": 1700000000.0 + number, "finished": 1700000060.5 + number, "error": None,
        }


def _jobs(frames: int) -> Iterator[tuple]:
    per = -(-frames // SUBJOBS)
    subjobs = ((("layer%d" % i), {"layer": "layer%d" % i, "frames": _frames(1 + i * per, min(per, frames - i * per))})
               for i in range(SUBJOBS) if frames - i * per > 0)
    yield "Shot010", {"priority": 50, "max_attempts": 3, "paused": False, "submitted": 1700000000.0,
                      "frame_timeout": None, "scene": "/proj/shot010/scene.mb", "subjobs": subjobs}


def _maxrss_mib() -> Optional[float]:
    # Linux: the peak of this process's own memory. ru_maxrss would do elsewhere, but on Linux a child started by
    # a big parent (bench/run.py after the memory figure) inherits the parent's ru_maxrss and shows no growth.
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import resource
    except ImportError:                     # Windows
        try:
            import psutil
            return psutil.Process().memory_info().peak_wset / 2 ** 20
        except (ImportError, AttributeError):
            return None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2 ** 20 if sys.platform == "darwin" else rss / 1024


def _phase(name: str, frames: int, path: str) -> dict:
    """One phase, in this process (the child)."""
    from farm_node import queue_xml
    base = _maxrss_mib()
    started = time.perf_counter()
    if name == "save":
        queue_xml.write_queue(path, _jobs(frames))
    elif name == "records":
        count = sum(1 for record in queue_xml.iter_records(path) if record.kind == "frame")
        assert count == frames, count
    else:
        jobs = queue_xml.load_queue(path)
        assert sum(len(s["frames"]) for s in jobs["Shot010"]["subjobs"].values()) == frames
    seconds = time.perf_counter() - started
    peak = _maxrss_mib()
    return {"seconds": round(seconds, 3),
            "peak_mib": None if peak is None or base is None else round(peak - base, 1)}


def run(frames: int = 100_000) -> dict:
    """Time and peak memory of saving and restoring ``frames`` frames; see the module docstring."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "queue.xml")
        result: dict = {"frames": frames}
        for name in ("save", "records", "load"):
            out = subprocess.run([sys.executable, os.path.abspath(__file__), "--phase", name, "--frames",
                                  str(frames), "--path", path], env=env, check=True, capture_output=True, text=True)
            result[name] = json.loads(out.stdout)
            if name == "save":
                result["file_mib"] = round(os.path.getsize(path) / 2 ** 20, 1)
    return result


def _json_floor(frames: int) -> float:
    """Seconds to json.dumps and json.loads the same queue: the floor of any text serialisation of it."""
    (name, job), = list(_jobs(frames))
    job = dict(job, subjobs={k: dict(v, frames={str(n): f for n, f in v["frames"]}) for k, v in job["subjobs"]})
    started = time.perf_counter()
    json.loads(json.dumps({name: job}))
    return time.perf_counter() - started


def rows(_tmp: str, quick: bool) -> list:
    """The benchmark suite's rows (bench/run.py): save and restore beside json's dump and load of the same queue."""
    frames = 10_000 if quick else 100_000
    r = run(frames)
    floor = _json_floor(frames)
    out = []
    for key, label in (("save", "save"), ("records", "restore, streamed"), ("load", "restore, whole dict")):
        phase = r[key]
        out.append({"figure": "5. XML %s, %d frames (%.0f MiB file)" % (label, frames, r["file_mib"]),
                    "value": "%.2f s, peak +%s MiB" % (phase["seconds"], phase["peak_mib"]),
                    "baseline": "json dumps+loads %.2f s" % floor, "ratio": phase["seconds"] / floor,
                    "target": "seconds, flat memory" if key != "load" else "-",
                    "ok": (phase["seconds"] < 10 and (phase["peak_mib"] or 0) < 64) if key != "load" else None})
    return out


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--phase", choices=("save", "records", "load"), help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        print(json.dumps(_phase(args.phase, args.frames, args.path)))
        return 0
    result = run(args.frames)
    if args.json:
        print(json.dumps(result))
        return 0
    print("%d frames, file %.1f MiB" % (result["frames"], result["file_mib"]))
    for name in ("save", "records", "load"):
        phase = result[name]
        print("  %-8s %7.2f s   peak +%s MiB" % (name, phase["seconds"], phase["peak_mib"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
