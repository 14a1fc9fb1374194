# A hot pure-Python loop for the interpreter's native stacks: pyhot.py SECONDS
import sys
import time


def hot(n):
    s = 0
    for i in range(n):
        s += i * i
    return s


end = time.time() + float(sys.argv[1] if len(sys.argv) > 1 else 2)
while time.time() < end:
    hot(100000)
