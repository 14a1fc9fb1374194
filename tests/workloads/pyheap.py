# Many small objects (pymalloc's arenas) and a few big buffers (malloc), all
# kept: pyheap.py [trace]  (trace: print tracemalloc's bytes for each part).
# Ends without the interpreter's teardown, so what it made is in use at the end.
# PYHEAP_SCALE (default 1) scales both parts alike.
import os
import sys
import tracemalloc


def make_small(n):
    keep = []
    for i in range(n):
        keep.append((i, str(i) * 3))
    return keep


def make_big(n):
    return [bytearray(1 << 20) for _ in range(n)]


import time

trace = len(sys.argv) > 1 and sys.argv[1] == "trace"
start = time.perf_counter()
if trace:
    tracemalloc.start()
t0 = tracemalloc.get_traced_memory()[0]
scale = float(os.environ.get("PYHEAP_SCALE", "1"))
small = make_small(int(300000 * scale))
t1 = tracemalloc.get_traced_memory()[0]
big = make_big(max(1, int(30 * scale)))
t2 = tracemalloc.get_traced_memory()[0]
if trace:
    print(t1 - t0, t2 - t1)
elif len(sys.argv) > 1 and sys.argv[1] == "time":
    print("%.4f" % (time.perf_counter() - start))
sys.stdout.flush()
os._exit(0)
