#!/bin/sh
# Generates configure and Makefile.in; neither is committed.
set -e
cd "$(dirname "$0")"
autoreconf --install --force "$@"
