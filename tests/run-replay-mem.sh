#!/bin/bash
# Replay: allocations, what stayed allocated, and memory over time.
. "$(dirname "$0")/replay-subr.sh"
replay 'mem\..*' 4
exit 0
