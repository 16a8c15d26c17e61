/* config.h -- schema-driven JSON configuration.
 *
 * Every key is declared once in a cfg_key table (name, type, default, range, help);
 * that table drives parsing, validation, `--help`/`dyolo config --schema` text and the
 * generated docs (configs/README.md).  Core declares the run and log sections; every
 * other module declares its section next to its code and registers it
 * (cfg_register_section) -- core knows none of them.  The program and the tests
 * register the library's sections at start with train_config_register_all
 * (train/train_config.h), the one place that lists them.
 *
 * Precedence: schema defaults < config file (which may "include" other files,
 * resolved relative to the including file) < --set key.path=value.
 * Unknown keys are errors with a "did you mean" suggestion; wrong types, ranges and
 * malformed JSON are errors naming the file, line and key path.
 *
 * Accessors take a path that must be in the schema: asking for an undeclared key is
 * a programming error and aborts (it can never be caused by user input).
 *
 * defines: cfg_type, cfg_key, cfg_section, cfg, cfg_new, cfg_load_file, cfg_set,
 *          cfg_int, cfg_float, cfg_bool, cfg_str, cfg_floats, cfg_to_json,
 *          cfg_write_json, cfg_free, cfg_schema_find, cfg_schema_print, cfg_sections,
 *          cfg_register_section
 */
#ifndef DY_CORE_CONFIG_H
#define DY_CORE_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "core/err.h"

typedef enum { CFG_INT, CFG_FLOAT, CFG_BOOL, CFG_STRING, CFG_ENUM, CFG_FLOAT_LIST } cfg_type;

typedef struct {
    const char *path;    /* dotted key path, e.g. "train.epochs" */
    cfg_type type;
    const char *def;     /* default as JSON text: "300", "0.01", "true", "\"sgd\"", "[1,2]" */
    double min, max;     /* inclusive range for numbers (and list items); min > max: none */
    const char *choices; /* CFG_ENUM: "sgd|adamw"; CFG_INT: NULL, or "*32" for "a multiple of 32" */
    const char *help;
} cfg_key;

typedef struct {
    const char *name; /* top-level section, e.g. "train" */
    const char *help;
    const cfg_key *keys;
    int nkeys;
} cfg_section;

/* NULL-terminated list of the sections registered so far (config_schema.c). */
extern const cfg_section *const *cfg_sections;
/* Adds a section to the schema (once; order of registration is the order of the
 * docs).  Call before the first cfg_new, from one thread. */
void cfg_register_section(const cfg_section *s);

typedef struct cfg cfg;

dy_status cfg_new(cfg **out);
void cfg_free(cfg *c);
dy_status cfg_load_file(cfg *c, const char *path);
dy_status cfg_set(cfg *c, const char *assignment); /* "key.path=value" */

int64_t cfg_int(const cfg *c, const char *path);
double cfg_float(const cfg *c, const char *path);
int cfg_bool(const cfg *c, const char *path);
const char *cfg_str(const cfg *c, const char *path); /* also CFG_ENUM */
int cfg_floats(const cfg *c, const char *path, float *out, int max); /* returns count */

const cJSON *cfg_json(const cfg *c);  /* the effective tree (read-only) */
char *cfg_to_json(const cfg *c);      /* formatted; free with free() */
dy_status cfg_write_json(const cfg *c, const char *path);

const cfg_key *cfg_schema_find(const char *path);
/* format: "text" (for --help) or "markdown" (for docs). */
void cfg_schema_print(FILE *f, const char *format);
/* Closest schema path to `path` (edit distance), or NULL if nothing is close. */
const char *cfg_suggest(const char *path);

#endif
