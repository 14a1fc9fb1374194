# A hot pure-Python loop for the interpreter's native stacks: pyhot.py SECONDS
# (of its own CPU time: under load, wall time would leave the start-up
# and exit a growing share of the samples)
import sys
import time


def hot(n):
    s = 0
    for i in range(n):
        s += i * i
    return s


end = time.process_time() + float(sys.argv[1] if len(sys.argv) > 1 else 2)
while time.process_time() < end:
    hot(100000)
