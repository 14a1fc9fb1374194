#!/bin/bash
# Replay: --diff of two archives as a table, difffolded lines and a differential flame graph.
. "$(dirname "$0")/replay-subr.sh"
replay 'oncpu-copies\.diff.*' 3
exit 0
