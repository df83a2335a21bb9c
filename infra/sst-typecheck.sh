#!/usr/bin/env bash
# Type-checks sst.config.ts and infra/*.ts against the platform types `sst install` generates into
# .sst/platform. Works offline apart from the npm registry, which the first install needs; deploying
# needs AWS and Cloudflare credentials and is not done here.
set -euo pipefail
cd "$(dirname "$0")/.."

# Without these the SST CLI downloads Pulumi and Bun from GitHub and reports telemetry before any command.
export SST_SKIP_DEPENDENCY_CHECK=1 SST_NO_BUN=1 SST_TELEMETRY_DISABLED=1

# The generated types depend only on the SST version and the provider versions, so the (about one
# minute) install reruns only when one of those changes.
stamp=.sst/typecheck-install.stamp
wanted="$(npx sst version) $(grep -E '^\s*providers:' sst.config.ts)"
if [[ ! -f .sst/platform/config.d.ts || ! -f $stamp || "$(cat "$stamp")" != "$wanted" ]]; then
  npx sst install --stage ci
  printf '%s' "$wanted" >"$stamp"
fi

npx tsc --noEmit -p tsconfig.sst.json
