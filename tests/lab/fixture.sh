#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The lab shared by the C tests against real servers (a ctest fixture):
#   fixture.sh start DIR PORT_BASE | stop DIR
# Domains: one per folder layout, a cold one, four users each, password
# lab-secret. The tests that use it take distinct users, so they may run in
# parallel.
set -euo pipefail
maillab=$(cd "$(dirname "$0")/../.." && pwd)/tools/maillab
case ${1:-} in
start)
	[ "$(id -u)" -eq 0 ] || { echo "fixture: not root; lab tests will skip"; exit 0; }
	command -v postfix >/dev/null || { echo "fixture: no postfix; lab tests will skip"; exit 0; }
	"$maillab" stop "$2" >/dev/null 2>&1 || true
	rm -rf "$2"
	mkdir -p "$2"
	chmod 755 "$2"
	exec "$maillab" start "$2" --port-base "$3" \
		--domains std.test,gm.test,ms.test,ya.test,old.test,cold.test \
		--layout gm.test=gmail --layout ms.test=outlook \
		--layout ya.test=yahoo --layout old.test=nouse \
		--users 4 --cold cold.test
	;;
stop)
	[ -d "$2" ] || exit 0
	"$maillab" stop "$2"
	rm -rf "$2"
	;;
*) echo "usage: fixture.sh start DIR PORT_BASE | stop DIR" >&2; exit 64 ;;
esac
