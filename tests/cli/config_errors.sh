# config_errors.sh -- `dyolo config` on good and bad files: one clear error line
# naming the culprit and a non-zero exit for every bad-input class.
. "$TOP_SRCDIR/tests/tap.sh"
tap_tmpdir
cd "$TAP_TMP" || exit 1

expect_error() { # expect_error NAME PATTERN ARGS...
  name=$1; pat=$2; shift 2
  "$DYOLO" config "$@" >out 2>err; rc=$?
  [ $rc -eq 1 ]; ok $? "$name: exit status 1 (got $rc)"
  [ "$(wc -l <err)" -eq 1 ]; ok $? "$name: exactly one error line"
  check_contains err "^dyolo config: error: .*$pat" "$name: message"
}

printf '{\n  "run": {"seed": 5},\n  "log": {"level": "warn"}\n}\n' >good.json
"$DYOLO" config --config good.json --print >out 2>err; ok $? "good config prints"
python3 - <<'PY'
import json
d = json.load(open("out"))
assert d["run"]["seed"] == 5 and d["log"]["level"] == "warn" and d["run"]["name"] == "dyolo", d
PY
ok $? "--print shows file values over defaults as JSON"
"$DYOLO" config --config good.json --set run.seed=11 --print >out 2>err
python3 -c 'import json; assert json.load(open("out"))["run"]["seed"] == 11'; ok $? "--set beats the file"
"$DYOLO" config --config good.json >out 2>err; check_contains out '^config OK: good.json' "validation only"

printf '{\n  "run": {\n    "sede": 1\n  }\n}\n' >unknown.json
expect_error "unknown key" 'unknown.json:3: unknown key "run.sede" \(did you mean "run.seed"\?\)' --config unknown.json
printf '{"run": {"seed": "x"}}' >type.json
expect_error "wrong type" 'type.json:1: key "run.seed": expected an integer, got a string' --config type.json
printf '{"log": {"progress_interval": 0}}' >range.json
expect_error "out of range" 'key "log.progress_interval" = 0 is out of range' --config range.json
printf '{\n "run": {\n  "seed": 1\n  "name": "x"\n }\n}\n' >syntax.json
expect_error "malformed JSON" 'syntax.json:4:[0-9]+: malformed JSON' --config syntax.json
expect_error "missing file" 'cannot open config file "missing.json": No such file or directory' --config missing.json
expect_error "bad --set" '--set run.seed=-3: key "run.seed" = -3 is out of range' --set run.seed=-3
# strings must be UTF-8: they are copied into config.json and summary.json (item 9)
expect_error "non-UTF-8 --set" '--set run.name=\.\.\.: key "run.name": not valid UTF-8 \(byte 2\)' --set "run.name=a$(printf '\377')b"
printf '{"run": {"name": "x\300\257"}}' >utf8.json
expect_error "non-UTF-8 in a file" 'utf8.json:1: key "run.name": not valid UTF-8 \(byte 2\)' --config utf8.json
"$DYOLO" config --set 'run.name=café ☕' --print >out 2>err; ok $? "UTF-8 strings are accepted"
printf '{\n "run": {\n  "seed": 1,\n  "seed": 2\n }\n}\n' >dup.json
expect_error "duplicate key" 'dup.json:3: key "run.seed" appears twice' --config dup.json
# an input size the network stride does not divide once trained into a heap overflow
expect_error "odd data.imgsz" 'key "data.imgsz" = 65 is not a multiple of 32 \(use 64 or 96\)' --set data.imgsz=65
printf '{"include": "nothere.json"}' >inc.json
expect_error "missing include" 'inc.json:1: in include: cannot open config file ".*nothere.json"' --config inc.json

"$DYOLO" config --schema >schema 2>&1; ok $? "--schema"
check_contains schema 'run\.seed +int +default 0' "schema lists keys with types and defaults"
"$DYOLO" config --schema --markdown >schema.md 2>&1
if cmp -s schema.md "$TOP_SRCDIR/configs/README.md"; then ok 0 "configs/README.md is the generated schema"
else ok 1 "configs/README.md is the generated schema (regenerate: dyolo config --schema --markdown > configs/README.md)"; diff schema.md "$TOP_SRCDIR/configs/README.md" | head | sed 's/^/# /'; fi
"$DYOLO" config --help >h 2>&1; check_contains h '^usage: dyolo config' "config --help"
"$DYOLO" config --config >h 2>&1; [ $? -eq 2 ]; ok $? "--config without a value is a usage error"
tap_done
