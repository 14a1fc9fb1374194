#!/bin/bash
# Replay: Python frames from the archive's FUNC records, with lines.
. "$(dirname "$0")/replay-subr.sh"
replay 'python\..*' 3
exit 0
