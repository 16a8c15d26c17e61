# version.sh -- `dyolo version` reports the stack, and the no-GPU path is detected.
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
out=$TAP_TMP/out
"$DYOLO" version >"$out" 2>&1; ok $? "dyolo version exits 0"
check_contains "$out" '^dyolo +: [0-9]+\.[0-9]+\.[0-9]+' "prints dyolo version"
check_contains "$out" '^MPI +: Open MPI v[0-9]' "prints the MPI library version"
check_contains "$out" '^HDF5 +: 1\.[0-9]+\.[0-9]+ \(parallel, MPI-IO\)' "reports parallel HDF5"
check_contains "$out" '^cJSON +: 1\.' "prints cJSON version"
check_contains "$out" '^OpenBLAS +: ' "prints OpenBLAS config"
"$DYOLO" version --json >"$TAP_TMP/v.json" 2>&1; ok $? "dyolo version --json exits 0"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["hdf5_parallel"] is True' "$TAP_TMP/v.json"
ok $? "--json is valid JSON with hdf5_parallel true"
if grep -q '^CUDA runtime' "$out"; then
  check_contains "$out" '^cuDNN +: 9\.' "CUDA build reports cuDNN 9"
  check_contains "$out" '^NCCL +: 2\.' "CUDA build reports NCCL 2"
  # With no device visible the runtime must explain itself, on any machine.
  CUDA_VISIBLE_DEVICES= "$DYOLO" version >"$TAP_TMP/nogpu" 2>&1; ok $? "version exits 0 without a GPU"
  check_contains "$TAP_TMP/nogpu" '^GPUs +: no usable GPU: .*[a-z]' "no-GPU reason is given"
  if ! command -v nvidia-smi >/dev/null 2>&1; then
    check_contains "$out" 'no usable GPU: .*(driver|no CUDA-capable device)' "no GPU on this machine: the CUDA runtime's reason"
  fi
else
  check_contains "$out" '^CUDA +: not built \(.*without CUDA' "CPU-only build says CUDA is not built"
fi
check_contains "$out" '^Backends +: cpu' "lists the compiled backends"
check_contains "$out" '^Device \(auto\) : (cpu \+ mpi \(no usable GPU: .*[a-z]|cuda \+ nccl)' "says what runtime.device=auto picks and why"
python3 -c 'import json,sys; b=json.load(open(sys.argv[1]))["backend"]; assert b["auto"] in ("cpu","cuda") and "cpu" in b["compiled"]' "$TAP_TMP/v.json"
ok $? "--json has the backend choice"
"$DYOLO" version --help >"$TAP_TMP/h" 2>&1; ok $? "version --help"
check_contains "$TAP_TMP/h" '^usage: dyolo version' "help text"
"$DYOLO" version --bogus >"$TAP_TMP/b" 2>&1; [ $? -eq 2 ]; ok $? "unknown option is a usage error (exit 2)"
"$DYOLO" nosuchcmd >"$TAP_TMP/n" 2>&1; [ $? -eq 2 ]; ok $? "unknown command exits 2"
check_contains "$TAP_TMP/n" 'unknown command "nosuchcmd"' "unknown command named"
"$DYOLO" --help >"$TAP_TMP/top" 2>&1; ok $? "dyolo --help"
check_contains "$TAP_TMP/top" '^  config ' "top-level help lists commands"
tap_done
