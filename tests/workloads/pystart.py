#!/usr/bin/env python3
# A short script, as CLI tools and test runners are: pystart.py MODE
#   cpu: 0.4 s of a hot loop, in CPU time (under load, wall time would leave
#        the start-up's share of the samples growing); wait: 40 sleeps of
#        10 ms, then 20k allocations
import sys
import time


def hot(n):
    s = 0
    for i in range(n):
        s += i * i
    return s


def waiter():
    for _ in range(40):
        time.sleep(0.01)


def alloc():
    keep = []
    for i in range(20000):
        keep.append(bytearray(1000 + i % 7))
    return keep


if sys.argv[1] == "cpu":
    end = time.process_time() + 0.4
    while time.process_time() < end:
        hot(20000)
else:
    waiter()
    alloc()
