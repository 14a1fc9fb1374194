#!/bin/bash
# Replay: user stacks the recorder walked in BPF (format 1.3: how each walk
# ended, shown by --info), code without frame pointers.
. "$(dirname "$0")/replay-subr.sh"
replay 'oncpu-bpf\..*' 3
exit 0
