#!/usr/bin/env python3
"""Runs one benchmark of a Go test binary for a fixed number of iterations
and prints a benchstat line whose ns/op is the benchmark process's CPU time
(user + sys) per iteration, not wall time.

On a machine shared with other work, wall time counts the time spent
waiting for a CPU; CPU time mostly does not, so runs taken under different
loads compare better. Build the binaries with `go test -c`, run the two
being compared in turn, and give benchstat the two outputs:

  go test -c -o /tmp/new.test ./clm/
  cd clm && python3 testdata/cpubench.py /tmp/new.test BenchmarkTrialOpen 300000 >> new.txt
  python3 testdata/cpubench.py /tmp/new.test BenchmarkKeystream 60000 1024 >> new.txt

Arguments: binary, benchmark name, iterations, and optionally the bytes per
iteration (to print MB/s).
"""
import os
import sys


def main():
    binary, bench, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    nbytes = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.execv(binary, [binary, "-test.run", "^$", "-test.bench", "^" + bench + "$", "-test.benchtime", f"{n}x"])
    _, status, usage = os.wait4(pid, 0)
    if status != 0:
        sys.exit(f"{bench} failed")
    ns = (usage.ru_utime + usage.ru_stime) * 1e9 / n
    line = f"{bench}-{os.cpu_count()}\t{n}\t{ns:.1f} ns/op"
    if nbytes:
        line += f"\t{nbytes / ns * 1e3:.2f} MB/s"
    print(line, flush=True)


if __name__ == "__main__":
    main()
