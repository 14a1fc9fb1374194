# Fixed pure-Python work for bench-python: pywork.py ITERS DEPTH; prints its seconds.
import sys
import time


def leaf(n):
    s = 0
    for i in range(n):
        s += i * i
    return s


def nest(depth, n):
    return leaf(n) if depth == 0 else nest(depth - 1, n)


t = time.monotonic()
for _ in range(int(sys.argv[1])):
    nest(int(sys.argv[2]), 2000)
print("%.3f" % (time.monotonic() - t))
