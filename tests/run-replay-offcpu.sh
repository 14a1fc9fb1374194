#!/bin/bash
# Replay: off-CPU waits, and the wall view of on-CPU plus off-CPU time.
. "$(dirname "$0")/replay-subr.sh"
replay 'offcpu\..*' 4
exit 0
