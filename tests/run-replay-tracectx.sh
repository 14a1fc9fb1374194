#!/bin/bash
# Replay: trace contexts the threads published (the span table, --trace and
# --span, pprof's labels, who each process is), and spans joined from OTLP
# JSON lines.
. "$(dirname "$0")/replay-subr.sh"
replay '(tracectx|otlp)\..*' 8
exit 0
