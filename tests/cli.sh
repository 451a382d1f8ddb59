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
for c in init pool client inbox seeds; do
	out=$("$hearth" $c --help); assert_eq 0 $? "$c --help exits 0"
	assert_match "$out" "usage: hearth $c" "$c --help prints its usage"
done
"$hearth" inbox frob >/dev/null 2>&1; assert_eq 64 $? "an unknown subcommand is EX_USAGE"
# No database yet: commands that need one say so and how to make one.
tmp=$(mktemp -d)
err=$(HOME=$tmp XDG_DATA_HOME=$tmp/data XDG_CONFIG_HOME=$tmp/conf "$hearth" pool list 2>&1)
assert_eq 66 $? "no database is EX_NOINPUT"
assert_match "$err" "hearth init" "and names the command that makes one"
err=$(HOME=$tmp "$hearth" --config "$tmp/nope.conf" pool list 2>&1)
assert_eq 78 $? "a missing named config file is EX_CONFIG"
printf '[store]\nbogus = 1\n' >"$tmp/bad.conf"
err=$(HOME=$tmp "$hearth" --config "$tmp/bad.conf" pool list 2>&1)
assert_match "$err" "bad.conf:2:" "a config error names file:line"
printf '[network]\n\ndns = 127.0.0.1; rm -rf /\n' >"$tmp/bad.conf"
err=$(HOME=$tmp "$hearth" --config "$tmp/bad.conf" pool list 2>&1)
assert_match "$err" "bad.conf:3: \\[network\\] dns" "a bad DNS server list names file:line"
out=$(HOME=$tmp "$hearth" seeds check); assert_eq 0 $? "seeds check of the shipped corpus"
assert_match "$out" "topics in 'en'" "and counts its topics"
a=$(HOME=$tmp "$hearth" seeds sample --seed 7 --count 2 --reply)
b=$(HOME=$tmp "$hearth" seeds sample --seed 7 --count 2 --reply)
assert_eq "$a" "$b" "seeds sample is deterministic for a seed"
assert_match "$a" "^Subject: " "and renders messages"
assert_match "$a" "Subject: Re: " "and replies"
mkdir "$tmp/seeds"; printf '@lang en\n@topic x\n@section subjects\nHi {there\n' >"$tmp/seeds/bad.txt"
err=$(HOME=$tmp "$hearth" seeds check --seeds "$tmp/seeds" 2>&1)
assert_eq 65 $? "a bad corpus is EX_DATAERR"
assert_match "$err" "bad.txt:4:" "and its error names file:line"
rm -rf "$tmp"
assert_done
