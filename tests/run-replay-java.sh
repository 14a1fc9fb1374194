#!/bin/bash
# Replay: Java JIT frames from the perf map the JVM wrote.
. "$(dirname "$0")/replay-subr.sh"
replay 'java\..*' 2
exit 0
