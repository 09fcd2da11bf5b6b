#!/usr/bin/env bash
# The whole test run on a fresh machine: local services, dependencies, every test (unit and
# integration). Ends with one line `tests: N passed, N failed` and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-services.sh || exit 1
bash scripts/ensure-packages.sh || exit 1
npm ci --no-audit --no-fund --loglevel=error || exit 1

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
