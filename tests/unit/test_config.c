/* test_config.c -- config precedence, includes and every validation error class. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "tests/tap.h"
#include "train/train_config.h"

static char dir[] = "/tmp/dyolo-cfg-XXXXXX";

static const char *write_file(const char *name, const char *text)
{
    static char path[8][512];
    static int slot = 0;
    char *p = path[slot++ % 8];
    snprintf(p, 512, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
    return p;
}

/* Loads text as a config file; returns status and leaves err_msg() set. */
static dy_status load_text(const char *name, const char *text)
{
    cfg *c = NULL;
    cfg_new(&c);
    dy_status s = cfg_load_file(c, write_file(name, text));
    cfg_free(c);
    return s;
}

static void test_precedence(void)
{
    cfg *c = NULL;
    TAP_EQ_INT(cfg_new(&c), DY_OK, "defaults build");
    TAP_EQ_INT(cfg_int(c, "run.seed"), 0, "schema default for run.seed");
    TAP_OK(!strcmp(cfg_str(c, "log.level"), "info"), "schema default for log.level");
    const char *f = write_file("p.json", "{\"run\": {\"seed\": 7, \"name\": \"fromfile\"}}");
    TAP_EQ_INT(cfg_load_file(c, f), DY_OK, "file loads");
    TAP_EQ_INT(cfg_int(c, "run.seed"), 7, "file overrides default");
    TAP_EQ_INT(cfg_set(c, "run.seed=9"), DY_OK, "--set accepted");
    TAP_EQ_INT(cfg_int(c, "run.seed"), 9, "--set overrides file");
    TAP_OK(!strcmp(cfg_str(c, "run.name"), "fromfile"), "untouched file value kept");
    TAP_NEAR(cfg_float(c, "log.progress_interval"), 10.0, 0, "untouched default kept");
    TAP_EQ_INT(cfg_set(c, "log.all_ranks=true"), DY_OK, "--set bool");
    TAP_OK(cfg_bool(c, "log.all_ranks"), "bool value");
    char *json = cfg_to_json(c);
    TAP_STR_HAS(json, "\"seed\":\t9", "effective config printed as JSON");
    free(json);
    char out[600];
    snprintf(out, sizeof out, "%s/effective.json", dir);
    TAP_EQ_INT(cfg_write_json(c, out), DY_OK, "effective config written");
    cfg *d = NULL;
    cfg_new(&d);
    TAP_EQ_INT(cfg_load_file(d, out), DY_OK, "written effective config loads back");
    TAP_EQ_INT(cfg_int(d, "run.seed"), 9, "round trip keeps values");
    cfg_free(d);
    cfg_free(c);
}

static void test_include(void)
{
    write_file("base.json", "{\"run\": {\"seed\": 1, \"name\": \"base\"}, \"log\": {\"level\": \"debug\"}}");
    char sub[600];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    mkdir(sub, 0700);
    write_file("sub/mid.json", "{\"include\": \"../base.json\", \"run\": {\"seed\": 2}}");
    const char *top = write_file("top.json", "{\"include\": [\"sub/mid.json\"], \"run\": {\"name\": \"top\"}}");
    cfg *c = NULL;
    cfg_new(&c);
    TAP_EQ_INT(cfg_load_file(c, top), DY_OK, "nested includes resolve relative to the including file");
    TAP_EQ_INT(cfg_int(c, "run.seed"), 2, "includer overrides included");
    TAP_OK(!strcmp(cfg_str(c, "run.name"), "top"), "top-level value wins");
    TAP_OK(!strcmp(cfg_str(c, "log.level"), "debug"), "value from the innermost include kept");
    cfg_free(c);
    write_file("cyc_a.json", "{\"include\": \"cyc_b.json\"}");
    write_file("cyc_b.json", "{\"include\": \"cyc_a.json\"}");
    TAP_EQ_INT(load_text("cyc.json", "{\"include\": \"cyc_a.json\"}"), DY_EINVAL, "include cycle is an error");
    TAP_STR_HAS(err_msg(), "include cycle", "cycle named");
    TAP_EQ_INT(load_text("incmiss.json", "{\n\"include\": \"nope.json\"}"), DY_ENOENT, "missing include");
    TAP_STR_HAS(err_msg(), "incmiss.json:2: in include: cannot open config file", "missing include names includer:line");
    TAP_STR_HAS(err_msg(), "nope.json", "missing include names the file");
}

static void test_errors(void)
{
    TAP_EQ_INT(load_text("u.json", "{\n  \"run\": {\n    \"sede\": 3\n  }\n}"), DY_EINVAL, "unknown key");
    TAP_STR_HAS(err_msg(), "u.json:3: unknown key \"run.sede\" (did you mean \"run.seed\"?)",
                "unknown key: file, line, path and suggestion");
    TAP_EQ_INT(load_text("u2.json", "{\"trian\": {}}"), DY_EINVAL, "unknown section");
    TAP_STR_HAS(err_msg(), "unknown key \"trian\"", "unknown section named");
    TAP_EQ_INT(load_text("t.json", "{\"run\": {\n\"seed\": \"ten\"}}"), DY_EINVAL, "wrong type");
    TAP_STR_HAS(err_msg(), "t.json:2: key \"run.seed\": expected an integer, got a string", "wrong type message");
    TAP_EQ_INT(load_text("t2.json", "{\"run\": {\"seed\": 1.5}}"), DY_EINVAL, "fraction for an int");
    TAP_STR_HAS(err_msg(), "expected an integer, got 1.5", "fraction message");
    TAP_EQ_INT(load_text("t3.json", "{\"run\": 5}"), DY_EINVAL, "section given a scalar");
    TAP_STR_HAS(err_msg(), "\"run\" is a section and must be an object", "section type message");
    TAP_EQ_INT(load_text("r.json", "{\"log\": {\"progress_interval\": 99999}}"), DY_ERANGE, "out of range");
    TAP_STR_HAS(err_msg(), "r.json:1: key \"log.progress_interval\" = 99999 is out of range [0.1, 3600]",
                "range message");
    TAP_EQ_INT(load_text("e.json", "{\"log\": {\"level\": \"loud\"}}"), DY_EINVAL, "bad enum");
    TAP_STR_HAS(err_msg(), "\"loud\" is not one of error|warn|info|debug", "enum message lists choices");
    TAP_EQ_INT(load_text("m.json", "{\n  \"run\": {\n    \"seed\": 3,,\n  }\n}"), DY_EFORMAT, "malformed JSON");
    TAP_STR_HAS(err_msg(), "m.json:3:", "malformed JSON: line number");
    TAP_STR_HAS(err_msg(), "malformed JSON near", "malformed JSON: says so");
    TAP_EQ_INT(load_text("empty.json", "  \n"), DY_EFORMAT, "empty file");
    TAP_STR_HAS(err_msg(), "the file is empty", "empty file message");
    TAP_EQ_INT(load_text("arr.json", "[1,2]"), DY_EFORMAT, "top level not an object");
    TAP_EQ_INT(load_text("trail.json", "{} x"), DY_EFORMAT, "trailing garbage");
    cfg *c = NULL;
    cfg_new(&c);
    TAP_EQ_INT(cfg_load_file(c, "/nonexistent/cfg.json"), DY_ENOENT, "missing file");
    TAP_STR_HAS(err_msg(), "cannot open config file \"/nonexistent/cfg.json\": No such file", "missing file message");
    TAP_EQ_INT(cfg_set(c, "run.sed=1"), DY_EINVAL, "--set unknown key");
    TAP_STR_HAS(err_msg(), "--set run.sed=1: unknown key \"run.sed\" (did you mean \"run.seed\"?)", "--set suggestion");
    TAP_EQ_INT(cfg_set(c, "run.seed=abc"), DY_EINVAL, "--set wrong type");
    TAP_EQ_INT(cfg_set(c, "run.seed=-1"), DY_ERANGE, "--set out of range");
    TAP_EQ_INT(cfg_set(c, "run.seed"), DY_EINVAL, "--set without =");
    TAP_EQ_INT(cfg_set(c, "log.all_ranks=maybe"), DY_EINVAL, "--set bad bool");
    TAP_EQ_INT(cfg_int(c, "run.seed"), 0, "failed --set leaves the value unchanged");
    cfg_free(c);
}

static void test_schema(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cfg_schema_print(f, "markdown");
    fclose(f);
    TAP_STR_HAS(buf, "| `run.seed` | int | `0` | [0, 2.14748e+09] | global random seed |", "schema drives the docs");
    free(buf);
    TAP_OK(cfg_suggest("zzzzzzzz.qqqq") == NULL, "no suggestion for nonsense");
    TAP_OK(cfg_suggest("foo.level") && !strcmp(cfg_suggest("foo.level"), "log.level"), "same leaf suggested");
}

int main(void)
{
    train_config_register_all(); /* the library's config sections */
    if (!mkdtemp(dir)) return 99;
    test_precedence();
    test_include();
    test_errors();
    test_schema();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) tap_diag("could not remove %s", dir);
    return tap_done();
}
