#!/bin/bash
# Replay: on-CPU with frame-pointer chains, in every output mode and with filters.
. "$(dirname "$0")/replay-subr.sh"
replay 'oncpu-fp\..*' 9
exit 0
