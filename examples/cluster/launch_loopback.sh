#!/usr/bin/env bash
# A TF_CONFIG cluster on this machine: chief, WORKERS workers, one ps, one
# evaluator, each a process of the same program with its own TF_CONFIG.
#   WORKERS=2 ./launch_loopback.sh /tmp/cluster_model [MAX_STEPS]
set -euo pipefail
MODEL_DIR=${1:?model_dir}; shift
WORKERS=${WORKERS:-2}
PYTHON=${PYTHON:-python}
HERE=$(cd "$(dirname "$0")" && pwd)
PORT=${PORT:-23456}

workers=""
for ((i = 0; i < WORKERS; i++)); do
  workers+="${workers:+,}\"localhost:$((PORT + 2 + i))\""
done
cluster="{\"chief\": [\"localhost:$PORT\"], \"ps\": [\"localhost:$((PORT + 1))\"]"
cluster+="${workers:+, \"worker\": [$workers]}}"

ARGS=("$@")  # passed on to train.py (MAX_STEPS)
start() {  # start TYPE INDEX
  TF_CONFIG="{\"cluster\": $cluster, \"task\": {\"type\": \"$1\", \"index\": $2}}" \
    "$PYTHON" "$HERE/train.py" "$MODEL_DIR" "${ARGS[@]}" > "$MODEL_DIR.$1-$2.log" 2>&1 &
  echo "$1 $2: pid $! (log $MODEL_DIR.$1-$2.log)"
}
mkdir -p "$(dirname "$MODEL_DIR")"
start ps 0
start chief 0
for ((i = 0; i < WORKERS; i++)); do start worker "$i"; done
start evaluator 0
wait  # every task exits by itself once training is done
tail -n 1 "$MODEL_DIR.evaluator-0.log"
