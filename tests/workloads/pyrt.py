# Python frames for run-rt-python: pyrt.py cpu|sleep|deep|subinterp SECONDS
# Hot.spin burns the CPU in pure Python (in two threads, one at a time under
# the GIL); compress_blob calls into zlib, a native library; nap sleeps;
# dive recurses 150 deep before it spins; subinterp spins in a thread of the
# main interpreter started once a subinterpreter heads the interpreter list.
import sys
import threading
import time
import zlib


class Hot:
    def spin(self, n):
        s = 0
        for i in range(n):
            s += i * i  # HOT LINE
        return s


def compress_blob(blob):
    return zlib.compress(blob, 9)


def worker(end):
    h = Hot()
    while time.time() < end:
        h.spin(20000)


def main_loop(end):
    blob = bytes(range(256)) * 2048
    h = Hot()
    while time.time() < end:
        h.spin(200000)
        compress_blob(blob)


def nap(end):
    while time.time() < end:
        time.sleep(0.05)


def dive(depth, end):
    if depth:
        return dive(depth - 1, end)
    while time.time() < end:
        Hot().spin(20000)


def main():
    mode, seconds = sys.argv[1], float(sys.argv[2])
    end = time.time() + seconds
    if mode == "sleep":
        nap(end)
        return
    if mode == "deep":
        dive(150, end)
        return
    if mode == "subinterp":
        try:
            import _xxsubinterpreters as interpreters
        except ImportError:
            import _interpreters as interpreters
        sub = interpreters.create()  # alive (destroyed with its last reference)
        t = threading.Thread(target=worker, args=(end,))
        t.start()
        t.join()
        interpreters.destroy(sub)
        return
    t = threading.Thread(target=worker, args=(end,))
    t.start()
    main_loop(end)
    t.join()


main()
