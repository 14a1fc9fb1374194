#!/bin/bash
# Replay: an archive cut inside its last samples member: the chunks before it, with warnings.
. "$(dirname "$0")/replay-subr.sh"
replay 'truncated\..*' 2
exit 0
