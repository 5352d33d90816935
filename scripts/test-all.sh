#!/usr/bin/env bash
# Installs what the tests need and runs every test (unit, integration, the
# uWSGI conformance suite), as root. The last line is "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
  echo "the tests mount, chroot, unshare and drop privileges: run as root" >&2
  exit 2
fi

# Debian packages the tests and the native build use, installed when missing
need=()
command -v unshare >/dev/null || need+=(util-linux)
command -v timeout >/dev/null || need+=(coreutils)
command -v make >/dev/null || need+=(make)
command -v g++ >/dev/null || need+=(g++)
command -v python3 >/dev/null || need+=(python3)   # node-gyp; the sd_notify test's listener
getent passwd nobody >/dev/null || need+=(base-passwd)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)   # the nginx front tests
command -v etcd >/dev/null || need+=(etcd-server)                               # the etcd emperor tests
command -v etcdctl >/dev/null || need+=(etcd-client)                             # etcdctl, used by the same tests
if [ ${#need[@]} -gt 0 ]; then
  # packages with a service (nginx, etcd) must not start it: the tests run
  # their own instances on loopback ports of their own
  norc=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && norc=1
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  [ -n "$norc" ] && rm -f /usr/sbin/policy-rc.d
fi

# npm deps (the install script builds the native addon with node-gyp), then tsc
npm ci --no-audit --no-fund --loglevel=error || exit 1
npm run --silent build || exit 1

# the uWSGI conformance suite (../shared/conformance) runs when it is beside
# this checkout; on a clone without it, test/conformance.test.ts skips it
if [ -d ../shared/conformance/cases ]; then
  echo "conformance: running ../shared/conformance"
else
  echo "conformance: SKIPPED (no ../shared/conformance beside this checkout)"
fi

results=$(mktemp)
npx vitest run --reporter=default --reporter=json --outputFile="$results"
rc=$?
# the closing line; a test file that fails to load counts as failed
node scripts/count-results.js "$results" "$rc"
counted=$?
rm -f "$results"
[ $rc -ne 0 ] && exit $rc
exit $counted
