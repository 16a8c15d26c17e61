/* config_schema.c -- the schema's registry of sections and the core sections (run
 * directory, seed, logging).  Other modules declare their sections next to their
 * code and register them (train_config_register_all lists the library's), so core
 * does not need to know them.
 *
 * defines: cfg_sections, cfg_register_section */
#include <stdio.h>
#include <stdlib.h>

#include "core/config.h"

static const cfg_key core_run_keys[] = {
    {"run.name", CFG_STRING, "\"dyolo\"", 1, 0, NULL, "name of the run (used in logs and file names)"},
    {"run.out_dir", CFG_STRING, "\"runs/dyolo\"", 1, 0, NULL,
     "run directory: effective config, metrics, checkpoints"},
    {"run.seed", CFG_INT, "0", 0, 2147483647.0, NULL, "global random seed"},
};

static const cfg_key core_log_keys[] = {
    {"log.level", CFG_ENUM, "\"info\"", 1, 0, "error|warn|info|debug", "log verbosity"},
    {"log.all_ranks", CFG_BOOL, "false", 1, 0, NULL, "log from every rank, prefixed with [rN]"},
    {"log.progress_interval", CFG_FLOAT, "10", 0.1, 3600, NULL,
     "seconds between progress lines when output is not a terminal"},
};

#define SECTION(var, nm, hlp, keys) \
    static const cfg_section var = {nm, hlp, keys, (int)(sizeof keys / sizeof keys[0])}

SECTION(cfg_section_run, "run", "run identity and output directory", core_run_keys);
SECTION(cfg_section_log, "log", "logging and progress output", core_log_keys);

#define CFG_MAX_SECTIONS 32

static const cfg_section *registry[CFG_MAX_SECTIONS + 1] = {&cfg_section_run, &cfg_section_log, NULL};
static int nregistered = 2;

const cfg_section *const *cfg_sections = registry;

void cfg_register_section(const cfg_section *s)
{
    for (int i = 0; i < nregistered; i++)
        if (registry[i] == s) return;
    if (nregistered == CFG_MAX_SECTIONS) {
        /* a build-time limit, never reached by user input */
        fprintf(stderr, "dyolo: internal error: more than %d config sections\n", CFG_MAX_SECTIONS);
        abort();
    }
    registry[nregistered++] = s;
    registry[nregistered] = NULL;
}
