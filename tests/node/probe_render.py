"""A render for the limit tests: ``probe SECONDS UNITS LABEL [GATE]`` appends ``start``/``end`` lines with the time, its pid,
the limit units its frame holds and a label to the file ``$PYFARM_PROBE_MARKS``, sleeping in between.

The lines are the renders' own record of when they ran, on this machine's one clock: a sweep over them shows every
moment of the run, not a sample. Stdlib only; the node runs it by path with its own Python (``--exe probe=...``).
"""
import os
import sys
import time


def mark(kind: str, units: str, label: str) -> None:
    # One write of one short line to a file opened for appending: lines of several renders never mix.
    fd = os.open(os.environ["PYFARM_PROBE_MARKS"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, ("%s %.6f %d %s %s\n" % (kind, time.time(), os.getpid(), units, label)).encode())
    finally:
        os.close(fd)


def main() -> int:
    seconds, units, label = float(sys.argv[1]), sys.argv[2], sys.argv[3]
    # ``probe SECONDS UNITS LABEL GATE``: it also holds on until the file GATE exists (a test's moment, not a time).
    gate = sys.argv[4] if len(sys.argv) > 4 else None
    mark("start", units, label)
    print("probe: holding %s unit(s) for %gs" % (units, seconds), flush=True)
    time.sleep(seconds)
    while gate and not os.path.exists(gate):
        time.sleep(0.02)
    mark("end", units, label)
    return 0


if __name__ == "__main__":
    sys.exit(main())
