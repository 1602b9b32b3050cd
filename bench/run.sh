#!/usr/bin/env bash
# Runs our benchmarks (bench/w*.mjs, against the built dist/) and the peers' scripts for the same
# workloads (shared/bench/peers), REPS repetitions each, then prints one table with ratios.
#
#   npm run bench            # everything
#   npm run bench -- w1 w8   # only the workloads whose script names contain w1 or w8
#
# Env: REPS (default 3), PER_SCRIPT_TIMEOUT seconds (default 300), PEERS_DIR (default
# ../shared/bench/peers beside the repository), NO_PEERS=1 to skip the peers, NO_BUILD=1.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export REPS="${REPS:-3}"
PER_SCRIPT_TIMEOUT="${PER_SCRIPT_TIMEOUT:-300}"
FILTERS=("$@")
OUT_DIR="$ROOT/bench/results"
mkdir -p "$OUT_DIR"
OUT="$OUT_DIR/latest.jsonl"
LOG="$OUT_DIR/latest.stderr.log"
: >"$OUT"
: >"$LOG"

wanted() { # wanted FILE: whether FILE matches one of the filters (or there are none)
  [ ${#FILTERS[@]} -eq 0 ] && return 0
  local pattern
  for pattern in "${FILTERS[@]}"; do case "$1" in *"$pattern"*) return 0 ;; esac; done
  return 1
}

run_script() { # run_script DIR FILE: runs FILE (.mjs with node, .py with python3) from DIR
  local dir=$1 file=$2 tmp rc t0 t1
  tmp=$(mktemp)
  t0=$(date +%s.%N)
  echo "### $file" >>"$LOG"
  case "$file" in
    *.py) (cd "$dir" && timeout "$PER_SCRIPT_TIMEOUT" python3 "$file") >"$tmp" 2>>"$LOG" ;;
    *) (cd "$dir" && timeout "$PER_SCRIPT_TIMEOUT" node "$file") >"$tmp" 2>>"$LOG" ;;
  esac
  rc=$?
  t1=$(date +%s.%N)
  grep '^RESULT ' "$tmp" | sed 's/^RESULT //' >>"$OUT"
  rm -f "$tmp"
  printf '%-44s rc=%-3s %6ss\n' "$file" "$rc" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')" >&2
}

if [ -z "${NO_BUILD:-}" ]; then
  # Other modules' type errors must not stop the benchmark: tsc still emits dist/.
  npm run build >"$OUT_DIR/build.log" 2>&1 || echo "note: npm run build reported errors (see bench/results/build.log); using the emitted dist/" >&2
fi

# Our scripts, and the workload ids (w1, w2…) they cover.
ours=()
workloads=()
for f in bench/w*.mjs; do
  wanted "$f" || continue
  ours+=("$f")
  workloads+=("$(basename "$f" | sed -E 's/^(w[0-9]+)_.*/\1/')")
done

# The peers: a private copy (the shared directory is read-only) using our node_modules.
PEERS_SRC="${PEERS_DIR:-$ROOT/../shared/bench/peers}"
PEERS="$OUT_DIR/peers"
if [ -z "${NO_PEERS:-}" ] && [ -d "$PEERS_SRC/scripts" ]; then
  rm -rf "$PEERS"
  mkdir -p "$PEERS"
  cp -r "$PEERS_SRC/lib" "$PEERS_SRC/scripts" "$PEERS_SRC/workers" "$PEERS_SRC/package.json" "$PEERS"/
  ln -s "$ROOT/node_modules" "$PEERS/node_modules"
  for w in $(printf '%s\n' "${workloads[@]}" | sort -u); do
    for f in "$PEERS"/scripts/"${w}"_*; do
      [ -e "$f" ] || continue
      case "$f" in *.py) command -v python3 >/dev/null || continue ;; esac
      run_script "$PEERS" "scripts/$(basename "$f")"
    done
  done
elif [ -z "${NO_PEERS:-}" ]; then
  echo "note: no peers at $PEERS_SRC; only our results are shown" >&2
fi

for f in "${ours[@]}"; do run_script "$ROOT" "$f"; done

node bench/report.mjs "$OUT"
