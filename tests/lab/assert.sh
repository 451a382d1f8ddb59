# SPDX-License-Identifier: MIT
# Assertions for the shell tests: each failed assertion prints what was
# expected and what came; assert_done prints the tally and sets the exit
# status (77 = skipped, via skip "reason").
_assert_pass=0
_assert_fail=0

_assert_report() { # ok description [detail]
	if [ "$1" = 1 ]; then
		_assert_pass=$((_assert_pass + 1))
		printf 'ok      %s\n' "$2"
	else
		_assert_fail=$((_assert_fail + 1))
		printf 'FAIL    %s\n' "$2"
		[ -z "${3:-}" ] || printf '        %s\n' "$3"
	fi
}

assert_eq() { # expected actual description
	if [ "$1" = "$2" ]; then _assert_report 1 "$3"
	else _assert_report 0 "$3" "expected [$1], got [$2]"; fi
}

assert_match() { # text extended-regex description
	if printf '%s' "$1" | grep -Eq -- "$2"; then _assert_report 1 "$3"
	else _assert_report 0 "$3" "no match for /$2/ in: $(printf '%s' "$1" | head -c 600)"; fi
}

assert_no_match() { # text extended-regex description
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		_assert_report 0 "$3" "unexpected match for /$2/ in: $(printf '%s' "$1" | head -c 600)"
	else _assert_report 1 "$3"; fi
}

assert_ok() { # description command...
	local d=$1; shift
	local out
	if out=$("$@" 2>&1); then _assert_report 1 "$d"
	else _assert_report 0 "$d" "exit $?: $(printf '%s' "$out" | tail -c 600)"; fi
}

assert_fails() { # description command...
	local d=$1; shift
	if "$@" >/dev/null 2>&1; then _assert_report 0 "$d" "command succeeded: $*"
	else _assert_report 1 "$d"; fi
}

skip() {
	printf 'SKIP    %s\n' "$1"
	exit 77
}

assert_done() {
	printf '%d passed, %d failed\n' "$_assert_pass" "$_assert_fail"
	[ "$_assert_fail" -eq 0 ] && [ "$_assert_pass" -gt 0 ]
	exit $?
}
