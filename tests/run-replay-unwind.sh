#!/bin/bash
# Replay: on-CPU with stack copies unwound with the archive's CFI, and without.
. "$(dirname "$0")/replay-subr.sh"
replay 'oncpu-copies\.(folded|nounwind|info)' 3
exit 0
