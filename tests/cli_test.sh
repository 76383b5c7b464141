#!/usr/bin/env bash
# End-to-end tests of the tinynn command. Usage: cli_test.sh TINYNN SOURCE_DIR SCRATCH_DIR CASE
# Each CASE is one CTest test; a failing check prints what was expected and what happened.
set -uo pipefail
tinynn=$1 src=$2 scratch=$3 case_name=$4
work="$scratch/$case_name"
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fashion=/usr/share/datasets/fashion-mnist

fail() { echo "FAILED: $*" >&2; exit 1; }
# run EXPECTED_CODE ARGS...: runs tinynn, keeps stdout/stderr in out.txt/err.txt, checks the code.
run() {
  local expected=$1; shift
  "$tinynn" "$@" >out.txt 2>err.txt
  local code=$?
  [ "$code" = "$expected" ] || { cat err.txt >&2; fail "tinynn $* exited $code, expected $expected"; }
}
# expect_error CODE TEXT ARGS...: exit code and a one-line message containing TEXT.
expect_error() {
  local code=$1 text=$2; shift 2
  run "$code" "$@"
  grep -qF -- "$text" err.txt || { cat err.txt >&2; fail "stderr of 'tinynn $*' lacks: $text"; }
  [ "$(grep -c 'tinynn: error' err.txt)" = 1 ] || fail "expected exactly one error line"
}
json_field() { grep -o "\"$1\":[-0-9.e]*" out.txt | tail -1 | cut -d: -f2; }
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }' || fail "$3: $1 < $2"; }

case "$case_name" in
help)
  run 0 --help && grep -q "Exit codes" out.txt || fail "--help lacks the exit codes"
  for cmd in train eval predict validate inspect compress export info; do run 0 "$cmd" --help; grep -q "Usage" out.txt || fail "$cmd --help"; done
  run 0 info && grep -q "tinynn 0" out.txt || fail "info"
  run 2 && grep -q "subcommand" err.txt || fail "no subcommand"
  ;;
validate_configs)
  # validate runs every check train makes before its first step, data included: a config whose
  # data is not on this machine (MNIST digits, an image folder) fails as train would.
  for c in "$src"/configs/*.json; do
    case "$(basename "$c")" in
      mnist_mlp.json|mnist_cnn.json|image_folder.json) expect_error 3 "does not exist" validate "$c" ;;
      *) run 0 validate "$c"; grep -q "total parameters" out.txt || fail "validate $c prints no model summary" ;;
    esac
  done
  expect_error 2 "the last linear layer has 5 outputs but the data needs 10" validate "$src/configs/fashion_mnist_mlp.json" \
      --set 'model.layers[6].units=5'
  expect_error 3 "data directory 'nowhere' does not exist" validate "$src/configs/fashion_mnist_mlp.json" --set data.dir=nowhere
  run 0 validate "$src/configs/mnist_mlp.json" --set data.dir="$fashion"
  ;;
xor)
  run 0 train "$src/configs/xor.json" --run-dir xor --set output.progress=lines
  at_least "$(json_field test_accuracy)" 0.98 "XOR test accuracy"
  for f in config.json metrics.jsonl metrics.csv curves.svg last.safetensors best.safetensors; do
    [ -s "xor/$f" ] || fail "run directory lacks $f"
  done
  [ "$(wc -l <xor/metrics.jsonl)" = 30 ] || fail "metrics.jsonl should have 30 lines"
  grep -q "<svg" xor/curves.svg || fail "curves.svg is not SVG"
  grep -q "epoch 30/30" err.txt || fail "no per-epoch lines"
  ;;
fashion_short)
  [ -d "$fashion" ] || fail "$fashion missing (apt-get install dataset-fashion-mnist)"
  run 0 train "$src/configs/fashion_mnist_mlp.json" --run-dir fm --set training.epochs=1 --set data.max_train=4000 \
      --set data.max_test=1000 --set output.progress=none --set scheduler.type=none --set scheduler.warmup_epochs=0
  at_least "$(json_field test_accuracy)" 0.72 "short Fashion-MNIST run"
  run 0 eval "$src/configs/fashion_mnist_mlp.json" --checkpoint fm/last.safetensors --set data.max_train=4000 --set data.max_test=1000
  at_least "$(json_field test_accuracy)" 0.72 "eval of the checkpoint"
  # The checkpoint alone is enough, and gives the same numbers.
  cp out.txt with_config.txt
  run 0 eval --checkpoint fm/last.safetensors --set data.max_train=4000 --set data.max_test=1000
  cmp out.txt with_config.txt || fail "eval from the checkpoint alone differs from eval with its config"
  # A config that disagrees (another loss, another model, other data) is refused, naming what differs.
  expect_error 2 "config: loss: " eval "$src/configs/fashion_mnist_mlp.json" --checkpoint fm/last.safetensors \
      --set loss.label_smoothing=0.3
  expect_error 2 "config: model.layers[0]: " eval "$src/configs/fashion_mnist_mlp.json" --checkpoint fm/last.safetensors \
      --set 'model.layers[0].units=64'
  expect_error 2 "config: data: samples of shape [2] with 2 outputs, but checkpoint 'fm/last.safetensors' takes [1, 28, 28] with 10" \
      eval "$src/configs/fashion_mnist_mlp.json" --checkpoint fm/last.safetensors --set data.type=synthetic
  # predict: a 28x28 grayscale PGM image (stb_image reads PNM too)
  { printf 'P5\n28 28\n255\n'; head -c 784 /dev/zero; } >blank.pgm
  run 0 predict --checkpoint fm/last.safetensors blank.pgm --top 2
  grep -qE '^blank.pgm: .+ \([0-9.]+%\), .+ \([0-9.]+%\)$' out.txt || { cat out.txt; fail "predict output"; }
  ;;
linalg_tools)
  # output.log_spectra: a line per epoch and per-layer entries in metrics.jsonl.
  run 0 train "$src/configs/xor.json" --run-dir xor --set training.epochs=2 --set output.log_spectra=true --set output.progress=lines
  grep -qE '^  spectral norm \(condition\): 0\.weight [0-9.]+ \([0-9.]+\) 2\.weight ' err.txt || { cat err.txt; fail "spectra line"; }
  [ "$(grep -c '"spectra":{"0.weight":{"condition":[0-9.]*,"spectral":[0-9.]*}' xor/metrics.jsonl)" = 2 ] || fail "spectra in metrics.jsonl"
  # inspect and compress a short Fashion-MNIST run; the compressed checkpoint evaluates and predicts.
  [ -d "$fashion" ] || fail "$fashion missing (apt-get install dataset-fashion-mnist)"
  small=(--set data.max_train=4000 --set data.max_test=1000)
  run 0 train "$src/configs/fashion_mnist_mlp.json" --run-dir fm --set training.epochs=1 "${small[@]}" --set output.progress=none
  run 0 inspect fm/last.safetensors --top 3
  grep -qE '^1\.weight +\[256, 784\] +[0-9.]+ +[0-9.]+ +256 ' out.txt || { cat out.txt; fail "inspect table"; }
  run 0 inspect fm/last.safetensors --json
  grep -q '"top_singular_values"' out.txt || fail "inspect --json"
  run 0 compress fm/last.safetensors --rank 16 -o fm/rank16.safetensors
  grep -q 'parameters: 235146 -> 24458' out.txt || { cat out.txt; fail "compress parameter counts"; }
  before=$(json_field test_accuracy_before) after=$(json_field test_accuracy_after)
  # A one-epoch model has flat spectra: rank 16 costs accuracy, but stays far above chance (10%).
  at_least "$after" 0.2 "accuracy at rank 16"
  at_least "$before" "$after" "accuracy before compression"
  run 0 eval "$src/configs/fashion_mnist_mlp.json" --checkpoint fm/rank16.safetensors "${small[@]}"
  [ "$(json_field test_accuracy)" = "$after" ] || fail "eval of the compressed checkpoint: $(json_field test_accuracy) vs $after"
  { printf 'P5\n28 28\n255\n'; head -c 784 /dev/zero; } >blank.pgm
  run 0 predict --checkpoint fm/rank16.safetensors blank.pgm
  run 0 compress fm/last.safetensors --energy 0.9 -o fm/e90.safetensors --no-eval
  grep -qE '^model.layers\[0\] +\[256, 784\] +[0-9]+ +9[0-9.]+% ' out.txt || { cat out.txt; fail "compress --energy 0.9"; }
  # At 99% energy no layer saves parameters by factorizing: all stay dense and nothing changes.
  run 0 compress fm/last.safetensors --energy 0.99 -o fm/e99.safetensors
  [ "$(json_field test_accuracy_before)" = "$(json_field test_accuracy_after)" ] || fail "dense layers changed accuracy"
  expect_error 2 "give --rank K or --energy SHARE" compress fm/last.safetensors -o x.safetensors
  run 2 compress fm/last.safetensors --rank 4 --energy 0.5 -o x.safetensors
  grep -q "excludes" err.txt || fail "--rank with --energy"
  expect_error 4 "missing.safetensors" inspect missing.safetensors
  [ ! -e x.safetensors ] || fail "a failed compress wrote its output"
  # The example that sweeps ranks, on the same checkpoint.
  "$(dirname "$tinynn")/compress_sweep" fm/last.safetensors >sweep.txt || fail "compress_sweep"
  grep -qE '^ +16 +24458 ' sweep.txt || { cat sweep.txt; fail "compress_sweep table"; }
  ;;
bad_configs)
  printf '{"model": {"layers": [\n  {"type": "linear",}\n]}}' >broken.json
  expect_error 2 "broken.json: invalid JSON at line 2" validate broken.json
  printf '{"model": 1e99999}' >huge_number.json
  expect_error 2 "huge_number.json: invalid JSON: number overflow" validate huge_number.json
  expect_error 2 "training.batch_sise: unknown key (did you mean 'batch_size'?)" validate "$src/configs/xor.json" --set training.batch_sise=3
  expect_error 2 "training.batch_size: 0 is out of range" validate "$src/configs/xor.json" --set training.batch_size=0
  expect_error 2 "optimizer.lr: -0.1 is out of range" validate "$src/configs/xor.json" --set optimizer.lr=-0.1
  expect_error 2 "training.epochs: expected an integer, got \"many\"" validate "$src/configs/xor.json" --set training.epochs=many
  expect_error 2 "model.layers[0].units: 0 is out of range" validate "$src/configs/xor.json" --set 'model.layers[0].units=0'
  expect_error 2 "model.layers[1].type: unknown layer 'tanhh'" validate "$src/configs/xor.json" --set 'model.layers[1].type=tanhh'
  expect_error 2 "optimizer.type: unknown optimizer 'adamax' (did you mean 'adam'?); known: sgd, adam, adamw, rmsprop, adagrad" validate "$src/configs/xor.json" --set optimizer.type=adamax
  expect_error 2 "loss.type: 'mse' does not fit classification data" validate "$src/configs/xor.json" --set loss.type=mse
  expect_error 2 "model.layers[2].units: the last linear layer has 5 outputs but the data needs 2" train "$src/configs/xor.json" --set 'model.layers[2].units=5'
  expect_error 2 "training.device: unknown device 'gpu'" validate "$src/configs/xor.json" --set training.device=gpu
  expect_error 2 "'training[x]' is not a list index" validate "$src/configs/xor.json" --set 'training[x]=1'
  run 2 train missing.json
  ;;
bad_data)
  expect_error 3 "data directory 'nowhere' does not exist" train "$src/configs/fashion_mnist_mlp.json" --set data.dir=nowhere
  mkdir -p corrupt && cp "$fashion"/*.gz corrupt/ && head -c 1000 "$fashion/t10k-labels-idx1-ubyte.gz" >corrupt/t10k-labels-idx1-ubyte.gz
  expect_error 3 "t10k-labels-idx1-ubyte.gz'" train "$src/configs/fashion_mnist_mlp.json" --set data.dir=corrupt --set data.max_train=100
  printf '1,2,0\n3,4\n' >ragged.csv
  expect_error 3 "ragged.csv', line 2: 2 columns" train "$src/configs/xor.json" --set data.type=csv --set data.train_path=ragged.csv --set data.test_path=ragged.csv --set data.header=false
  if ! "$tinynn" info | grep -q "CUDA devices:  [1-9]"; then
    expect_error 6 "--device: 'cuda' requested, but no CUDA device is available" train "$src/configs/xor.json" --device cuda
    expect_error 6 "training.device: 'cuda:1' requested" train "$src/configs/xor.json" --set training.device=cuda:1
  fi
  expect_error 4 "--resume: no checkpoint" train "$src/configs/xor.json" --run-dir empty --resume
  printf 'garbage' >bad.safetensors
  expect_error 4 "bad.safetensors': file is 7 bytes" eval "$src/configs/xor.json" --checkpoint bad.safetensors
  ;;
diverge)
  printf 'a,b,y\n1,2,0\n1e39,1,1\n0,1,1\n2,2,0\n' >inf.csv  # 1e39 overflows float32 to inf
  expect_error 5 "training diverged at epoch 1, step 1: the gradient norm is nan" train "$src/configs/xor.json" --run-dir d \
      --set data.type=csv --set data.train_path=inf.csv --set data.test_path=inf.csv --set data.normalize=false \
      --set data.validation_split=0 --set training.batch_size=4 --set training.shuffle=false
  run 0 train "$src/configs/xor.json" --run-dir d2 --set data.type=csv --set data.train_path=inf.csv \
      --set data.test_path=inf.csv --set data.normalize=false --set data.validation_split=0 --set training.batch_size=2 \
      --set training.shuffle=false --set training.on_nonfinite=skip --set training.epochs=2 --set output.progress=lines
  grep -q "1 non-finite steps skipped" err.txt || { cat err.txt; fail "skip mode should report skipped steps"; }
  ;;
resume)
  run 0 train "$src/configs/xor.json" --run-dir r --set training.epochs=3 --set output.progress=none
  run 0 train "$src/configs/xor.json" --run-dir r --set training.epochs=6 --set output.progress=lines --resume
  grep -q "resuming 'r' at epoch 4, batch 0" err.txt || { cat err.txt; fail "resume message"; }
  [ "$(wc -l <r/metrics.jsonl)" = 6 ] || fail "resumed run should have 6 epochs of metrics"
  grep -q '"epoch":4' r/metrics.jsonl || fail "epoch 4 missing"
  # A changed config is refused, naming the keys, and nothing of the run changes ...
  cp r/config.json config_before.json
  expect_error 2 "--resume: the config differs from the one 'r/last.safetensors' was trained with in: optimizer.lr, training.batch_size" \
      train "$src/configs/xor.json" --run-dir r --resume --set training.epochs=8 --set optimizer.lr=0.5 --set training.batch_size=7
  cmp r/config.json config_before.json || fail "a refused resume rewrote config.json"
  # Resuming a finished run says there is nothing to do.
  run 0 train "$src/configs/xor.json" --run-dir r --resume --set training.epochs=6 --set output.progress=lines
  grep -q "has finished its 6 epochs: nothing to train" err.txt || { cat err.txt; fail "resume of a finished run"; }
  [ "$(wc -l <r/metrics.jsonl)" = 6 ] || fail "a finished run's resume should add no epochs"
  ;;
interrupt)
  # SIGINT during training: a checkpoint at the exact batch, exit 130, and --resume finishes the run.
  # Batches of 32 keep an epoch near a second, so the signal 0.2 s into epoch 2 lands mid-epoch
  # (at batch 128 an epoch of 40,000 samples now takes about 0.2 s).
  "$tinynn" train "$src/configs/fashion_mnist_mlp.json" --run-dir i --set training.epochs=2 --set data.max_train=40000 \
      --set training.batch_size=32 --set data.max_test=500 --set output.progress=lines >out.txt 2>err.txt &
  pid=$!
  for _ in $(seq 1 600); do grep -q "epoch 1/2:" err.txt 2>/dev/null && break; sleep 0.05; done
  sleep 0.2
  kill -INT $pid
  wait $pid
  code=$?
  [ "$code" = 130 ] || { cat err.txt; fail "interrupted run exited $code, expected 130"; }
  grep -q "interrupted at epoch 2" err.txt || { cat err.txt; fail "interrupt message"; }
  [ -s i/last.safetensors ] || fail "no checkpoint after SIGINT"
  run 0 train "$src/configs/fashion_mnist_mlp.json" --run-dir i --set training.epochs=2 --set data.max_train=40000 \
      --set training.batch_size=32 --set data.max_test=500 --set output.progress=lines --resume
  grep -q "resuming 'i' at epoch 2, batch [1-9]" err.txt || { cat err.txt; fail "should resume mid-epoch"; }
  at_least "$(json_field test_accuracy)" 0.7 "resumed run"
  # The interrupted epoch's line and metrics are the whole epoch's (its first part's sums travel in
  # the checkpoint), and the weights end as an uninterrupted run's.
  run 0 train "$src/configs/fashion_mnist_mlp.json" --run-dir i_ref --set training.epochs=2 --set data.max_train=40000 \
      --set training.batch_size=32 --set data.max_test=500 --set output.progress=lines
  python3 - i/metrics.jsonl i_ref/metrics.jsonl <<'PY' || fail "the resumed epoch's metrics differ from an uninterrupted run's"
import json, sys
resumed, reference = ([json.loads(l) for l in open(p)] for p in sys.argv[1:])
assert len(resumed) == len(reference) == 2, (len(resumed), len(reference))
for key in ("train_loss", "train_accuracy", "penalty", "grad_norm", "skipped_steps"):
    for a, b in zip(resumed, reference):
        assert a[key] == b[key], (a["epoch"], key, a[key], b[key])
PY
  cmp i/last.safetensors i_ref/last.safetensors || fail "the resumed run's checkpoint differs from an uninterrupted run's"
  # SIGTERM (what a scheduler or `docker stop` sends) behaves the same.
  "$tinynn" train "$src/configs/xor.json" --run-dir t --set training.epochs=100000 --set output.progress=lines >out.txt 2>err.txt &
  pid=$!
  for _ in $(seq 1 200); do grep -q "epoch 2/" err.txt 2>/dev/null && break; sleep 0.05; done
  kill -TERM $pid
  wait $pid
  code=$?
  [ "$code" = 130 ] || { cat err.txt; fail "SIGTERM: exited $code, expected 130"; }
  [ -s t/last.safetensors ] || fail "no checkpoint after SIGTERM"
  ;;
kill9)
  # kill -9 at random moments: every checkpoint left behind is complete, and resuming until done
  # ends with a last.safetensors byte-identical to an uninterrupted run's.
  args=("$src/configs/fashion_mnist_mlp.json" --set training.epochs=4 --set data.max_train=6000 --set data.max_test=300
        --set output.progress=none --set output.plot=false --threads 2)
  run 0 train "${args[@]}" --run-dir ref
  for attempt in 1 2 3; do
    resume=(); [ -f k/last.safetensors ] && resume=(--resume)
    "$tinynn" train "${args[@]}" --run-dir k "${resume[@]}" >out.txt 2>err.txt &
    pid=$!
    sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.8 + (r % 150) / 100 }')"
    kill -9 $pid 2>/dev/null
    wait $pid
    if [ -f k/last.safetensors ]; then
      run 0 eval "$src/configs/fashion_mnist_mlp.json" --checkpoint k/last.safetensors --set data.max_train=6000 --set data.max_test=300
    fi
    ls k/.*.tmp >/dev/null 2>&1 && echo "(a temporary file was left by the kill; it is never read)"
  done
  resume=(); [ -f k/last.safetensors ] && resume=(--resume)
  run 0 train "${args[@]}" --run-dir k "${resume[@]}"
  cmp k/last.safetensors ref/last.safetensors || fail "the resumed run's final checkpoint differs from the uninterrupted run's"
  # A run directory that cannot be created is reported, and nothing is trained.
  touch plainfile
  expect_error 4 "cannot create the directory 'plainfile/run'" train "$src/configs/xor.json" --run-dir plainfile/run
  ;;
threads)
  # The same run on 1, 2 and 3 threads ends with byte-identical checkpoints: every reduction gives
  # each output to one thread in a fixed order, and elementwise work is split without overlap.
  for t in 1 2 3; do
    run 0 train "$src/configs/fashion_mnist_mlp.json" --run-dir "t$t" --threads $t --set training.epochs=2 \
        --set data.max_train=6000 --set data.max_test=300 --set output.progress=none --set output.plot=false
  done
  cmp t1/last.safetensors t2/last.safetensors || fail "1 and 2 threads differ"
  cmp t1/last.safetensors t3/last.safetensors || fail "1 and 3 threads differ"
  # More threads than cores: trained all the same, with a note saying why it is slower.
  more=$(($(getconf _NPROCESSORS_ONLN) + 1))  # not nproc: it follows OMP_NUM_THREADS
  run 0 train "$src/configs/xor.json" --run-dir more --threads "$more" --set training.epochs=1
  grep -q "note: $more threads on [0-9]* cores" err.txt || { cat err.txt; fail "no note for $more threads"; }
  ;;
image_folder)
  # Two classes of 8x8 PGM images (dark and bright, with a little variation), train and test.
  for split in train test; do
    for cls in dark bright; do
      mkdir -p "images/$split/$cls"
      for i in 1 2 3 4 5 6; do
        base=$([ "$cls" = dark ] && echo 30 || echo 220)
        { printf 'P5\n8 8\n255\n'; for _ in $(seq 1 64); do printf "\\$(printf '%03o' $((base + RANDOM % 20)))"; done; } \
          >"images/$split/$cls/$i.pgm"
      done
    done
  done
  run 0 train "$src/configs/image_folder.json" --run-dir img --set data.dir=images --set data.image_size='[4,4]' \
      --set data.validation_split=0 --set training.epochs=15 --set training.batch_size=4 --set output.progress=none
  at_least "$(json_field test_accuracy)" 0.99 "image folder accuracy"
  run 0 predict --checkpoint img/last.safetensors images/test/bright/1.pgm
  grep -q "images/test/bright/1.pgm: bright" out.txt || { cat out.txt; fail "predict on an image-folder model"; }
  run 0 train "$src/configs/xor.json" --run-dir ck --set training.checkpoint_dir=ckpts --set training.epochs=2 --set output.progress=none
  [ -s ckpts/last.safetensors ] || fail "training.checkpoint_dir was not used"
  ;;
run_dirs)
  # Two trainings into one run directory: the second fails at once while the first holds the lock.
  "$tinynn" train "$src/configs/xor.json" --run-dir busy --set training.epochs=100000 --set output.progress=lines \
      >first.out 2>first.err &
  pid=$!
  for _ in $(seq 1 200); do grep -q "epoch 2/" first.err 2>/dev/null && break; sleep 0.05; done
  expect_error 4 "the run directory 'busy' is in use by another training" train "$src/configs/xor.json" --run-dir busy
  kill -INT $pid; wait $pid
  [ -s busy/last.safetensors ] || fail "the first run lost its checkpoint to the second"
  # A killed run leaves no stale lock: resuming works.
  run 0 train "$src/configs/xor.json" --run-dir busy --resume --set training.epochs=3 --set output.progress=none
  # A new run never silently replaces a finished one ...
  run 0 train "$src/configs/xor.json" --run-dir done --set training.epochs=4 --set output.progress=none
  cp done/metrics.jsonl before.jsonl
  expect_error 4 "holds a previous run ('done/last.safetensors'); continue it with --resume, replace it with --overwrite" \
      train "$src/configs/xor.json" --run-dir done --set training.epochs=1
  cmp done/metrics.jsonl before.jsonl || fail "a refused run changed the previous run's metrics"
  # ... unless asked, and then nothing of the old run remains or is named.
  run 0 train "$src/configs/xor.json" --run-dir done --set training.epochs=1 --set output.progress=none --overwrite
  [ "$(wc -l <done/metrics.jsonl)" = 1 ] || fail "--overwrite should start a fresh history"
  ;;
paths)
  # Data paths in a config file are relative to its folder, whatever the working directory.
  mkdir -p proj/data elsewhere
  { echo "a,b,label"; for i in $(seq 1 40); do echo "$((i % 2)),$(( (i / 2) % 2 )),$(( (i % 2) ^ ((i / 2) % 2) ))"; done; } >proj/data/xor.csv
  printf '%s\n' '{"model": {"layers": [{"type": "linear", "units": 8}, {"type": "tanh"}, {"type": "linear"}]},' \
      '"data": {"type": "csv", "train_path": "data/xor.csv", "test_path": "data/xor.csv", "validation_split": 0},' \
      '"training": {"epochs": 2}, "output": {"progress": "none"}}' >proj/cfg.json
  (cd elsewhere && "$tinynn" train ../proj/cfg.json --run-dir run >../out.txt 2>../err.txt) || { cat err.txt; fail "train from another directory"; }
  grep -q "proj/data/xor.csv" elsewhere/run/config.json || fail "config.json should hold the resolved data path"
  sed 's/data\/xor.csv/data\/missing.csv/g' proj/cfg.json >proj/bad.json
  expect_error 3 "proj/data/missing.csv" train proj/bad.json --run-dir bad
  ;;
best)
  # Early stopping tests the best epoch's weights (restore_best, the default) and says which.
  args=("$src/configs/regularized_mlp.json" --set training.epochs=12 --set data.max_train=6000 --set data.max_test=1000
        --set output.progress=none)
  run 0 train "${args[@]}" --run-dir b
  tested=$(json_field tested_epoch)
  best=$(awk -F, 'NR > 1 && $6 != "" && ($6 + 0 > max + 0 || NR == 2) { max = $6; e = $1 } END { print e }' b/metrics.csv)
  [ "$tested" = "$best" ] || fail "tested epoch $tested, but the best val_accuracy is at epoch $best"
  accuracy=$(json_field test_accuracy)
  run 0 eval --checkpoint b/best.safetensors --set data.max_train=6000 --set data.max_test=1000
  [ "$(json_field test_accuracy)" = "$accuracy" ] || fail "the final test accuracy is not best.safetensors' ($accuracy)"
  run 0 train "${args[@]}" --run-dir last --set training.early_stopping.restore_best=false
  [ "$(json_field tested_epoch)" = "$(json_field epochs)" ] || fail "restore_best=false tests the last epoch"
  # min_delta: an improvement smaller than it does not count (so a huge one stops after patience).
  run 0 train "${args[@]}" --run-dir delta --set training.early_stopping.min_delta=1
  [ "$(json_field epochs)" = 5 ] && [ "$(json_field tested_epoch)" = 1 ] || { cat out.txt; fail "min_delta"; }
  ;;
progress)
  # The bar never wraps: every redraw fits the terminal (COLUMNS where stderr is not one), the bar
  # shrinking first; a wide terminal also shows the epoch's and the whole run's time and ETA.
  for cols in 50 80; do
    COLUMNS=$cols run 0 train "$src/configs/xor.json" --run-dir "p$cols" --set training.epochs=60 --set output.progress=bar
    tr '\r' '\n' <err.txt | grep -E '^epoch [0-9]+/60 ' | grep -v ': train loss' >redraws.txt
    [ -s redraws.txt ] || fail "no progress bar was drawn"
    awk -v c=$cols 'length($0) > c - 1 { print; bad = 1 } END { exit bad }' redraws.txt || fail "a redraw is wider than $cols columns"
  done
  grep -qE '\[=+ *\] [0-9]+/[0-9]+ loss [0-9.]+ acc [0-9.]+% [0-9]+:[0-9]{2}<[0-9]+:[0-9]{2} \| run [0-9]+:[0-9]{2}<[0-9]+:[0-9]{2}' redraws.txt ||
    { head -3 redraws.txt; fail "an 80-column bar shows the epoch's and the run's elapsed time and ETA"; }
  ;;
errors)
  # Options and the positional config in any order.
  run 0 train --set training.epochs=1 --set output.progress=none "$src/configs/xor.json" --run-dir order
  run 0 validate --set training.epochs=2 "$src/configs/xor.json"
  # Every error is exactly one line "tinynn: error: ...", without a doubled prefix.
  one_line() { [ "$(wc -l <err.txt)" = 1 ] || { cat err.txt; fail "stderr should be one line"; }
               grep -q '^tinynn: error: ' err.txt || fail "no 'tinynn: error: ' prefix"
               ! grep -q 'error: tinynn:' err.txt || fail "doubled prefix"; }
  expect_error 3 "data directory 'nowhere' does not exist" train "$src/configs/fashion_mnist_mlp.json" --set data.dir=nowhere
  one_line
  expect_error 2 "unknown command 'trian' (did you mean 'train'?)" trian "$src/configs/xor.json"
  one_line
  expect_error 2 "--threads" train "$src/configs/xor.json" --threads -1
  one_line
  expect_error 2 "config" train --set training.epochs=1
  one_line
  # A batch whose activations exceed memory (642 GB): its own exit code and a hint, nothing else kept.
  printf '{"model": {"layers": [{"type": "conv2d", "out_channels": 4096, "kernel_size": 3, "padding": 1},
    {"type": "relu"}, {"type": "max_pool2d", "kernel_size": 2}, {"type": "flatten"}, {"type": "linear"}]},
    "data": {"type": "idx", "dir": "%s"}, "training": {"epochs": 1, "batch_size": 50000}}' "$fashion" >oom.json
  # (Under AddressSanitizer too: its allocator returns null for it, as the C library's does, instead of stopping.)
  (export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1"
   expect_error 7 "out of memory allocating" train oom.json --run-dir oom) || exit 1
  grep -q "a smaller training.batch_size" err.txt || fail "the out-of-memory error gives no hint"
  mkdir -p adir
  expect_error 4 "'adir': is a directory, not a checkpoint file" eval "$src/configs/xor.json" --checkpoint adir
  one_line
  run 0 train "$src/configs/fashion_mnist_mlp.json" --run-dir fm --set training.epochs=1 --set data.max_train=500 \
      --set data.max_test=100 --set output.progress=none
  expect_error 3 "image file 'missing.png' does not exist" predict --checkpoint fm/last.safetensors missing.png
  one_line
  ;;
predict)
  # predict takes image files, folders of them and CSV files of samples, in batches; what it gives
  # for the test set's first 200 images equals eval's accuracy on them, in either form.
  [ -d "$fashion" ] || fail "$fashion missing (apt-get install dataset-fashion-mnist)"
  run 0 train "$src/configs/fashion_mnist_mlp.json" --run-dir fm --set training.epochs=1 --set data.max_train=3000 \
      --set data.max_test=200 --set output.progress=none
  run 0 eval --checkpoint fm/last.safetensors
  accuracy=$(json_field test_accuracy)
  python3 - "$fashion" <<'PY' || fail "could not write the test images"
import gzip, os, sys
images = gzip.open(os.path.join(sys.argv[1], "t10k-images-idx3-ubyte.gz")).read()[16:]
labels = gzip.open(os.path.join(sys.argv[1], "t10k-labels-idx1-ubyte.gz")).read()[8:]
os.makedirs("images/sub", exist_ok=True)
with open("samples.csv", "w") as csv, open("labels.txt", "w") as names:
    csv.write(",".join(f"p{i}" for i in range(784)) + ",label\n")
    for i in range(200):
        pixels = images[784 * i: 784 * (i + 1)]
        # Half in a subfolder: directories are searched recursively, files in sorted order.
        with open(f"images/{'sub/' if i % 2 else ''}{i:03}.pgm", "wb") as f:
            f.write(b"P5\n28 28\n255\n" + pixels)
        csv.write(",".join(map(str, pixels)) + f",{labels[i]}\n")
        names.write(f"{labels[i]}\n")
PY
  check_predictions() {  # FILE: the JSON of predict; its accuracy against labels.txt must be eval's
    python3 - "$1" "$accuracy" <<'PY' || fail "predict's accuracy differs from eval's ($1)"
import json, re, sys
doc = json.load(open(sys.argv[1]))
labels = [int(l) for l in open("labels.txt")]
index = lambda name: int(re.search(r"(\d+)\.pgm$", name).group(1)) if name.endswith(".pgm") else int(name.rsplit(":", 1)[1]) - 2
predicted = {index(p["input"]): p["top"][0]["index"] for p in doc["predictions"]}
assert sorted(predicted) == list(range(200)), sorted(predicted)[:5]
accuracy = sum(predicted[i] == labels[i] for i in range(200)) / 200
assert abs(accuracy - float(sys.argv[2])) < 1e-9, (accuracy, sys.argv[2])
PY
  }
  run 0 predict --checkpoint fm/last.safetensors images --json --top 1
  cp out.txt from_images.json
  check_predictions from_images.json
  head -1 from_images.json | grep -q '^{' || fail "predict --json prints one JSON document"
  run 0 predict --checkpoint fm/last.safetensors samples.csv --json --top 1 --device cpu
  cp out.txt from_csv.json
  check_predictions from_csv.json
  # The text form: one line per input, in the order given and found.
  run 0 predict --checkpoint fm/last.safetensors images/000.pgm samples.csv --top 2
  [ "$(wc -l <out.txt)" = 201 ] || fail "expected 201 prediction lines"
  grep -qE '^images/000.pgm: .+ \([0-9.]+%\), .+ \([0-9.]+%\)$' out.txt || { head -3 out.txt; fail "text output"; }
  grep -qE '^samples.csv:2: ' out.txt || fail "a CSV row is named by its line"
  # Unreadable inputs are reported one line each; the rest are still predicted; exit code 3.
  echo "not an image" >images/broken.png
  sed -n '1,4p' samples.csv >bad.csv && echo "1,2,x" >>bad.csv && echo "1,2,3" >>bad.csv
  run 3 predict --checkpoint fm/last.safetensors images bad.csv missing.png
  [ "$(wc -l <out.txt)" = 203 ] || fail "the readable inputs should still be predicted"
  grep -qF "image 'images/broken.png' cannot be read" err.txt || { cat err.txt; fail "broken image"; }
  grep -qF "CSV file 'bad.csv', line 5: column 3: 'x' is not a number" err.txt || { cat err.txt; fail "bad CSV cell"; }
  grep -qF "CSV file 'bad.csv', line 6: 3 numbers, but the model takes 784 per sample (or 785 with a label)" err.txt \
      || { cat err.txt; fail "short CSV row"; }
  grep -qF "image file 'missing.png' does not exist" err.txt || { cat err.txt; fail "missing file"; }
  [ "$(grep -c '^tinynn: error: ' err.txt)" = 4 ] && [ "$(wc -l <err.txt)" = 4 ] || { cat err.txt; fail "one line per unreadable input"; }
  run 3 predict --checkpoint fm/last.safetensors images bad.csv --json
  python3 -c "import json; d = json.load(open('out.txt')); assert len(d['predictions']) == 203 and len(d['failures']) == 3, d['failures']" \
      || fail "predict --json lists the failures"
  expect_error 6 "cuda" predict --checkpoint fm/last.safetensors images/000.pgm --device cuda:7
  # A tabular model takes CSV rows; images are refused for it; a regression model prints values.
  run 0 train "$src/configs/spirals.json" --run-dir sp --set training.epochs=2 --set output.progress=none
  printf 'x,y\n0.5,0.25\n-1,1\n' >points.csv
  run 0 predict --checkpoint sp/last.safetensors points.csv --top 3
  grep -qE '^points.csv:3: [0-2] \([0-9.]+%\), [0-2] \([0-9.]+%\), [0-2] \([0-9.]+%\)$' out.txt || { cat out.txt; fail "tabular"; }
  expect_error 3 "the model takes samples of shape [2], not images; give a CSV file of samples" \
      predict --checkpoint sp/last.safetensors images/000.pgm
  # regression.json learns y = 2 x0 - 3 x1 + 0.5 x2 + 1 (plus noise).
  run 0 train "$src/configs/regression.json" --run-dir reg --set output.progress=none
  printf '0,0,0\n1,0,0\n0,1,2\n' >x.csv
  run 0 predict --checkpoint reg/last.safetensors x.csv --json
  python3 - <<'PY' || { cat out.txt; fail "regression predictions"; }
import json
got = [p["values"][0] for p in json.load(open("out.txt"))["predictions"]]
for value, want in zip(got, [1.0, 3.0, -1.0]):
    assert abs(value - want) < 0.3, (got, want)
PY
  ;;
cnn)
  # The CNN config end to end on a little data: train (with augmentation), eval, predict, inspect,
  # compress (conv layers stay as they are), and config errors that name the layer.
  [ -d "$fashion" ] || fail "$fashion missing (apt-get install dataset-fashion-mnist)"
  small=(--set data.max_train=2000 --set data.max_test=500)
  run 0 train "$src/configs/fashion_mnist_cnn.json" --run-dir cnn --set training.epochs=2 "${small[@]}" \
      --set data.augment.crop_padding=2 --set output.progress=lines
  grep -qE '^model.layers\[0\] +conv2d +out_channels=32 padding=1 +\[32, 28, 28\] +320$' err.txt \
      || { cat err.txt; fail "summary of the conv layer"; }
  grep -qE '^model.layers\[7\] +max_pool2d +\[64, 7, 7\] +0$' err.txt || { cat err.txt; fail "summary of the pool"; }
  trained=$(json_field test_accuracy)
  at_least "$trained" 0.6 "CNN after 2 short epochs"
  run 0 eval --checkpoint cnn/last.safetensors --set data.max_test=500
  [ "$(json_field test_accuracy)" = "$trained" ] || fail "eval of the CNN checkpoint: $(json_field test_accuracy) vs $trained"
  { printf 'P5\n28 28\n255\n'; head -c 784 /dev/zero; } >blank.pgm
  run 0 predict --checkpoint cnn/last.safetensors blank.pgm --top 2
  grep -qE '^blank.pgm: .+ \([0-9.]+%\), .+ \([0-9.]+%\)$' out.txt || { cat out.txt; fail "CNN predict"; }
  # A model trained without data.image_size takes images of its size only (training resized none).
  { printf 'P5\n20 20\n255\n'; head -c 400 /dev/zero; } >small.pgm
  expect_error 3 "image 'small.pgm' is 20x20, but the model takes 28x28 images" predict --checkpoint cnn/last.safetensors small.pgm
  run 0 inspect cnn/last.safetensors --top 3
  grep -qE '^0\.weight +\[32, 1, 3, 3\] ' out.txt && grep -qE '^4\.weight +\[64, 32, 3, 3\] +[0-9.]+ +[0-9.]+ +64 ' out.txt \
      || { cat out.txt; fail "inspect lists the conv weights"; }
  cp cnn/last.safetensors kept.safetensors
  expect_error 2 "compress: -o 'cnn/../cnn/last.safetensors' is the checkpoint being compressed" \
      compress cnn/last.safetensors --rank 16 -o cnn/../cnn/last.safetensors
  cmp cnn/last.safetensors kept.safetensors || fail "compress replaced its own input"
  expect_error 2 "--rank: expected a whole number of at least 1, got 0" compress cnn/last.safetensors --rank 0 -o x.safetensors
  run 0 compress cnn/last.safetensors --rank 16 -o cnn/small.safetensors
  grep -q 'parameters: 421834 -> ' out.txt || { cat out.txt; fail "compress the CNN"; }
  run 0 eval --checkpoint cnn/small.safetensors --set data.max_test=500
  printf '{"model": {"layers": [{"type": "flatten"}, {"type": "conv2d", "out_channels": 4}, {"type": "linear"}]}}' >flat.json
  expect_error 2 "config: model.layers[1]: conv2d takes image samples [C, H, W], but its input is [784]" validate flat.json
  expect_error 2 "config: model.layers[4]: conv2d on samples [32, 14, 14]: tinynn::conv2d: kernel 17x17" \
      validate "$src/configs/fashion_mnist_cnn.json" --set 'model.layers[4].kernel_size=17'
  expect_error 2 "config: model.layers[0].kernel_size: expected an integer or [height, width], got [1,2,3]" \
      validate "$src/configs/fashion_mnist_cnn.json" --set 'model.layers[0].kernel_size=[1,2,3]'
  expect_error 2 "config: model.layers[0].out_channels: required" \
      validate "$src/configs/fashion_mnist_cnn.json" --set 'model.layers[0].out_channels=0'
  expect_error 2 "config: data.augment: augmentation is for image data" \
      validate "$src/configs/xor.json" --set data.augment.horizontal_flip=true
  expect_error 2 "config: model.layers[0]: conv2d takes image samples [C, H, W], but the data's samples are [2]: image layers need image data" \
      validate "$src/configs/spirals.json" --set 'model.layers[0]={"type": "conv2d", "out_channels": 4}'
  # A normalization over features on images is refused (it would normalize each pixel on its own).
  expect_error 2 "config: model.layers[1]: batchnorm normalizes feature vectors [F], but its input is [32, 28, 28]: use batchnorm2d" \
      validate "$src/configs/fashion_mnist_cnn.json" --set 'model.layers[1].type=batchnorm'
  # A batch norm that would see one value per channel (a last batch of one sample after global
  # pooling) is a config error before training, in validate and train alike.
  printf '{"data": {"type": "idx", "dir": "%s", "max_train": 20, "max_test": 50}, "training": {"batch_size": 17},
    "model": {"layers": [{"type": "conv2d", "out_channels": 4}, {"type": "adaptive_avg_pool2d"}, {"type": "batchnorm2d"},
    {"type": "flatten"}, {"type": "linear"}]}}' "$fashion" >gap_bn.json
  for command in validate train; do
    expect_error 2 "config: model.layers[2]: batchnorm2d in training needs more than one value per channel, but the last training batch holds one sample (18 samples, training.batch_size 17): set training.drop_last: true" \
        $command gap_bn.json
  done
  run 0 validate gap_bn.json --set training.drop_last=true
  expect_error 2 "config: data.augment.crop_padding: 14 pixels on each side of 28x28 images: at most 13" \
      validate "$src/configs/fashion_mnist_cnn.json" --set data.augment.crop_padding=14
  expect_error 2 "config: data.image_size: applies to image_folder data only" \
      validate "$src/configs/fashion_mnist_cnn.json" --set 'data.image_size=[14,14]'
  expect_error 2 "unknown layer 'maxpool2d' (did you mean 'max_pool2d'?)" \
      validate "$src/configs/fashion_mnist_cnn.json" --set 'model.layers[3].type=maxpool2d'
  # --overwrite replaces a run only once the new one is set up: a config that fails first leaves
  # the old run's checkpoints and metrics as they were.
  expect_error 3 "data directory 'nowhere' does not exist" \
      train "$src/configs/fashion_mnist_cnn.json" --run-dir cnn --overwrite --set data.dir=nowhere
  expect_error 2 "batchnorm normalizes feature vectors" \
      train "$src/configs/fashion_mnist_cnn.json" --run-dir cnn --overwrite --set 'model.layers[1].type=batchnorm'
  cmp cnn/last.safetensors kept.safetensors || fail "a failed --overwrite run removed the previous run's checkpoint"
  [ -s cnn/best.safetensors ] && [ -s cnn/metrics.jsonl ] || fail "a failed --overwrite run removed the previous run's files"
  ;;
export)
  # Every shipped config, a model with every exportable layer type and a compressed checkpoint are
  # exported; onnx.checker checks each file and ONNX Runtime (from PyPI, in a venv kept in the
  # build tree) must give eval's outputs and accuracy (tests/onnx/check_export.py).
  [ -d "$fashion" ] || fail "$fashion missing (apt-get install dataset-fashion-mnist)"
  python3 - <<'PY' || fail "could not write the image folder"
import os, random
random.seed(1)
for split, count in (("train", 12), ("test", 6)):
    for c, base in (("dark", 30), ("mid", 120), ("bright", 220)):
        os.makedirs(f"images/{split}/{c}", exist_ok=True)
        for i in range(count):
            with open(f"images/{split}/{c}/{i}.pgm", "wb") as f:
                f.write(b"P5\n8 8\n255\n" + bytes(base + random.randrange(20) for _ in range(64)))
PY
  cat >every_layer.json <<JSON
{"data": {"type": "idx", "dir": "$fashion", "max_train": 2000, "max_test": 300},
 "model": {"layers": [
   {"type": "conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1}, {"type": "batchnorm2d"}, {"type": "leaky_relu"},
   {"type": "max_pool2d", "kernel_size": 3, "stride": 2, "ceil_mode": true},
   {"type": "conv2d", "out_channels": 8, "kernel_size": 3, "padding": 2, "dilation": 2, "groups": 2, "bias": false},
   {"type": "gelu"}, {"type": "avg_pool2d", "kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": false},
   {"type": "max_pool2d", "kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": true},
   {"type": "adaptive_avg_pool2d", "output_size": 2}, {"type": "avg_pool2d", "kernel_size": 1},
   {"type": "flatten"}, {"type": "linear", "units": 32}, {"type": "layernorm"}, {"type": "softplus"}, {"type": "dropout"},
   {"type": "linear", "units": 16}, {"type": "batchnorm"}, {"type": "sigmoid"}, {"type": "linear", "bias": false},
   {"type": "log_softmax"}]},
 "loss": {"type": "nll"}, "optimizer": {"type": "adam", "lr": 0.01}, "training": {"epochs": 2}}
JSON
  checks=()
  export_and_eval() {  # NAME CHECKPOINT
    run 0 export "$2" -o "$1.onnx"
    grep -qF "$1.onnx: ONNX (IR 8, opset 17), input 'input' [batch, " out.txt || { cat out.txt; fail "export's report ($1)"; }
    run 0 eval --checkpoint "$2" --outputs "$1.csv"
    checks+=("$1" "$1.onnx" "$1.csv")
  }
  short=(--set output.progress=none)
  for c in "$src"/configs/*.json every_layer.json; do
    name=$(basename "$c" .json) data=()
    case "$name" in
      mnist_*) data=(--set data.dir="$fashion") ;;
      image_folder) data=(--set data.dir="$work/images" --set data.image_size='[6,6]') ;;
    esac
    [ "$name" = every_layer ] || data+=(--set training.epochs=1)
    [ "$name" = every_layer ] || ! grep -q '"idx"' "$c" || data+=(--set data.max_train=5000)  # tested on all 10000
    run 0 train "$c" --run-dir "run_$name" "${short[@]}" "${data[@]}"
    export_and_eval "$name" "run_$name/last.safetensors"
  done
  # compress's factorized layers are plain linear layers without bias: they export as such.
  run 0 compress run_fashion_mnist_mlp/last.safetensors --rank 16 -o compressed.safetensors --no-eval
  export_and_eval compressed compressed.safetensors
  grep -qF "outputs 'outputs' [batch, 10], 'probabilities' [batch, 10]" <("$tinynn" export compressed.safetensors -o again.onnx) \
      || fail "a classifier's outputs"
  run 0 export run_regression/last.safetensors -o regression.onnx
  grep -qF "output 'outputs' [batch, " out.txt || fail "a regression model has one output"

  # A layer ONNX cannot express is an error naming it, and no file is written.
  sed 's/"output_size": 2}/"output_size": 3}/' every_layer.json >uneven.json
  run 0 train uneven.json --run-dir run_uneven "${short[@]}"
  expect_error 2 "layer 8 (AdaptiveAvgPool2d(3x3)) cannot be exported to ONNX: its input 4x4 is not divisible by its output 3x3" \
      export run_uneven/last.safetensors -o uneven.onnx
  [ ! -e uneven.onnx ] || fail "a failed export left a file"
  # -o never replaces a file that is not an ONNX model (a checkpoint, a config).
  cp run_xor/last.safetensors keep.safetensors
  expect_error 2 "'keep.safetensors' exists and is not a .onnx file; refusing to replace it" export run_xor/last.safetensors -o keep.safetensors
  cmp -s keep.safetensors run_xor/last.safetensors || fail "export replaced a checkpoint"
  expect_error 2 "'xor.onnx' exists and is not a .csv file" eval --checkpoint run_xor/last.safetensors --outputs xor.onnx
  expect_error 4 "missing.safetensors" export missing.safetensors -o missing.onnx

  # onnx.checker with Debian's python3-onnx; ONNX Runtime from PyPI in a venv made once per build tree.
  py=/usr/bin/python3 && [ -x "$py" ] || py=python3
  venv="$scratch/onnx-venv"
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import onnxruntime" 2>/dev/null; then
    rm -rf "$venv"
    { "$py" -m venv --system-site-packages "$venv" && "$venv/bin/pip" install -q onnxruntime; } >venv.log 2>&1 \
        || { echo "note: could not install onnxruntime into a venv (see $work/venv.log)"; rm -rf "$venv"; }
  fi
  [ -x "$venv/bin/python" ] && py="$venv/bin/python"
  if "$py" -c "import onnxruntime" 2>/dev/null; then
    # The README's Python example, as written, on the default config's export.
    mkdir -p example && cp fashion_mnist_mlp.onnx example/model.onnx
    awk '/<!-- onnx-example -->/ { found = 1; next } found && /^```python/ { inside = 1; next } inside && /^```/ { exit }
         inside { print }' "$src/README.md" >example/example.py
    [ -s example/example.py ] || fail "the README has no ONNX example"
    (cd example && "$py" example.py) >example.out 2>&1 || { cat example.out; fail "the README's ONNX example"; }
    grep -qxE "T-shirt/top|Trouser|Pullover|Dress|Coat|Sandal|Shirt|Sneaker|Bag|Ankle boot" example.out \
        || { cat example.out; fail "the README's ONNX example should print a class name"; }
  fi
  "$py" "$src/tests/onnx/check_export.py" "${checks[@]}"
  code=$?
  [ "$code" = 77 ] && exit 77
  [ "$code" = 0 ] || fail "check_export.py"
  ;;
dist)
  # Data-parallel training over MPI: mpirun over loopback (--oversubscribe: more ranks than cores;
  # -q: no banners), Open MPI's consent variables for root.
  "$tinynn" info | grep -q "^MPI: *Open MPI" || { echo "SKIPPED: tinynn was built without MPI"; exit 77; }
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  mpi=(mpirun -q --oversubscribe)
  py=/usr/bin/python3 && [ -x "$py" ] || py=python3
  same_weights() { "$py" "$src/tests/dist/compare_checkpoints.py" "$1" "$2" 1e-6 || fail "$1 and $2 differ"; }
  same_losses() {  # two runs' metrics.jsonl: train and validation losses within 1e-6 relative
    "$py" - "$1/metrics.jsonl" "$2/metrics.jsonl" <<'PY' || fail "the losses of $1 and $2 differ"
import json, sys
a, b = ([json.loads(l) for l in open(p)] for p in sys.argv[1:])
assert len(a) == len(b), (len(a), len(b))
for x, y in zip(a, b):
    for k in ("train_loss", "val_loss", "train_accuracy", "val_accuracy"):
        assert abs(x[k] - y[k]) <= 1e-6 * abs(x[k]), (x["epoch"], k, x[k], y[k])
PY
  }
  # The default config on 6400 training samples (50 steps of 128 an epoch); a cosine period that
  # does not depend on training.epochs, so a run extended by --resume follows the same schedule.
  default=("$src/configs/fashion_mnist_mlp.json" --set data.max_train=7112 --set scheduler.t_max=3 --set output.progress=none)
  # 2 ranks with the global batch train the model one process trains (dropout masks included).
  run 0 train "${default[@]}" --run-dir one --set training.epochs=1
  "${mpi[@]}" -np 2 "$tinynn" train "${default[@]}" --run-dir two --set training.epochs=1 >out.txt 2>err.txt \
      || { cat err.txt; fail "mpirun -np 2 tinynn train"; }
  [ "$(grep -c '^{' out.txt)" = 1 ] && [ "$(grep -c '^run directory' err.txt)" = 1 ] || fail "only rank 0 reports"
  same_weights one/last.safetensors two/last.safetensors
  same_losses one two
  # A checkpoint of 2 ranks resumes on 1, and one of 1 on 2: both equal 2 epochs in one process.
  run 0 train "${default[@]}" --run-dir whole --set training.epochs=2
  cp -r two two_then_one && cp -r one one_then_two
  run 0 train "${default[@]}" --run-dir two_then_one --resume --set training.epochs=2
  "${mpi[@]}" -np 2 "$tinynn" train "${default[@]}" --run-dir one_then_two --resume --set training.epochs=2 >out.txt 2>err.txt \
      || { cat err.txt; fail "resume on 2 ranks"; }
  same_weights whole/last.safetensors two_then_one/last.safetensors
  same_weights whole/last.safetensors one_then_two/last.safetensors
  same_losses whole two_then_one
  same_losses whole one_then_two

  # A global batch smaller than the world is refused up front, in one line.
  "${mpi[@]}" -np 3 "$tinynn" train "$src/configs/xor.json" --run-dir tiny --set training.batch_size=2 >out.txt 2>err.txt
  [ $? = 2 ] || fail "a batch of 2 on 3 ranks should exit 2"
  grep -qF "tinynn: error: rank 0: config: training.batch_size: the global batch of 2 cannot be split across 3 ranks" err.txt \
      && [ "$(grep -c 'tinynn: error' err.txt)" = 1 ] || { cat err.txt; fail "the batch error"; }
  # A rank that fails alone (its data path) ends the job within seconds, naming itself. (Bounds
  # of seconds scale by TINYNN_TEST_SLOWDOWN, which the sanitizer build sets.)
  bound=$(( 30 * ${TINYNN_TEST_SLOWDOWN:-1} ))
  start=$(date +%s)
  "${mpi[@]}" -np 2 sh -c 'd=$1; [ "$OMPI_COMM_WORLD_RANK" = 1 ] && d=nowhere; exec "$0" train "$2" --run-dir lone --set data.dir="$d"' \
      "$tinynn" "$fashion" "$src/configs/fashion_mnist_mlp.json" >out.txt 2>err.txt
  code=$?
  [ "$code" = 3 ] && [ $(( $(date +%s) - start )) -le "$bound" ] || { cat err.txt; fail "one failing rank: exit $code"; }
  grep -qF "tinynn: error: rank 1: data directory 'nowhere' does not exist" err.txt || { cat err.txt; fail "the failing rank's line"; }
  # kill -9 of one rank mid-run: the job exits non-zero within the bound, mpirun naming the rank (so
  # no -q here); the last checkpoint resumes.
  mpirun --oversubscribe -np 2 "$tinynn" train "${default[@]}" --run-dir killed --set training.epochs=1000 --set output.progress=lines \
      >killed.out 2>killed.err &
  job=$!
  for _ in $(seq 1 600); do grep -q "epoch 3/" killed.err 2>/dev/null && break; sleep 0.1; done
  victim=""
  for p in $(pgrep -f -- "--run-dir killed"); do
    tr '\0' '\n' </proc/"$p"/environ 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1" && victim=$p
  done
  [ -n "$victim" ] || { kill "$job"; fail "rank 1 was not found"; }
  kill -9 "$victim"
  start=$(date +%s)
  wait "$job"
  code=$?
  [ "$code" != 0 ] && [ $(( $(date +%s) - start )) -le "$bound" ] || fail "the job should end non-zero within $bound s (exit $code)"
  grep -q "process rank 1 .* exited on signal 9" killed.err || { tail -20 killed.err; fail "mpirun's line naming the killed rank"; }
  run 0 train "${default[@]}" --run-dir killed --resume --set training.epochs=$(( $(wc -l <killed/metrics.jsonl) + 1 ))
  grep -q "resuming 'killed' at epoch" err.txt || { cat err.txt; fail "resuming the killed job"; }
  ;;
*)
  fail "unknown case $case_name"
  ;;
esac
echo "PASSED: $case_name"
