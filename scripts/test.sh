#!/usr/bin/env bash
# The whole test run on a fresh machine: local services, dependencies, every test (unit and
# integration). Ends with one line `tests: N passed, N failed` and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-services.sh || exit 1
bash scripts/ensure-packages.sh || exit 1
# npm ci is the reproducible install; the registry reached here lacks some other platforms' optional
# binaries (e.g. @swc/core-darwin-arm64) that npm 11 lists in the lock file, and npm ci then refuses
# the lock as out of sync. npm install keeps every locked version and installs the same tree.
if ! npm ci --no-audit --no-fund --loglevel=error 2>/tmp/mymonit-npm-ci.err; then
  if grep -q 'in sync' /tmp/mymonit-npm-ci.err; then
    echo "npm ci refused the lock file (optional binaries for other platforms missing from this registry); using npm install"
    npm install --no-audit --no-fund --loglevel=error || exit 1
  else
    cat /tmp/mymonit-npm-ci.err >&2
    exit 1
  fi
fi

mkdir -p test-results
rm -f test-results/jest.json
npx jest --json --outputFile=test-results/jest.json "$@"
status=$?

if [ -s test-results/jest.json ]; then
  node -e '
    const r = require("./test-results/jest.json");
    const failedSuites = r.numFailedTestSuites + (r.numRuntimeErrorTestSuites || 0);
    if (failedSuites && !r.numFailedTests) console.log(`${failedSuites} test suite(s) failed to run`);
    console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests + (r.numFailedTests ? 0 : failedSuites)} failed`);
  '
else
  echo "tests: 0 passed, 1 failed"
  [ "$status" -eq 0 ] && status=1
fi
exit "$status"
