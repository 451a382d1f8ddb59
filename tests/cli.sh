#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The command line's contract: --version, --help, exit codes from sysexits.h.
. "$(dirname "$0")/lab/assert.sh"
hearth=$1

out=$("$hearth" --version); assert_eq 0 $? "--version exits 0"
assert_match "$out" '^hearth [0-9]+\.[0-9]+\.[0-9]+$' "--version prints the version"
out=$("$hearth" version); assert_match "$out" '^hearth [0-9]' "version command"
out=$("$hearth" --help); assert_eq 0 $? "--help exits 0"
assert_match "$out" 'usage: hearth' "--help prints usage"
out=$("$hearth" version --help); assert_match "$out" 'usage: hearth version' "command --help"
"$hearth" >/dev/null 2>&1; assert_eq 64 $? "no command is EX_USAGE"
err=$("$hearth" frobnicate 2>&1); assert_eq 64 $? "unknown command is EX_USAGE"
assert_match "$err" "'frobnicate' is not a command" "unknown command is named"
"$hearth" --bogus >/dev/null 2>&1; assert_eq 64 $? "unknown option is EX_USAGE"
assert_done
