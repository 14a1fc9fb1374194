#!/bin/bash
# Replay: Java JIT frames from the perf map the JVM wrote, and interpreted
# frames by method in place of the interpreter's (-Xint).
. "$(dirname "$0")/replay-subr.sh"
replay 'java(-interp)?\..*' 5
exit 0
