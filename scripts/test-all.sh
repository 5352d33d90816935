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
command -v etcd >/dev/null || need+=(etcd-server)      # the etcd emperor tests: a real 3-member cluster
command -v etcdctl >/dev/null || need+=(etcd-client)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# npm deps (the install script builds the native addon with node-gyp), then tsc
npm ci --no-audit --no-fund --loglevel=error || exit 1
npm run --silent build || exit 1

results=$(mktemp)
npx vitest run --reporter=default --reporter=json --outputFile="$results"
rc=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results" || echo "0 passed, 1 failed"
rm -f "$results"
exit $rc
