#!/bin/bash
# Replay: a stripped Go binary named from its .gopclntab.
. "$(dirname "$0")/replay-subr.sh"
replay 'go\..*' 2
exit 0
