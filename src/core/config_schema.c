/* config_schema.c -- the list of configuration sections this build knows, and the
 * core sections (run directory, seed, logging).  Other modules declare their
 * own sections next to their code and are listed here. */
#include "core/config.h"
#include "data/loader.h"

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

/* Sections declared by other modules next to their code. */
extern const cfg_section cfg_section_train; /* src/train/train_config.c */
extern const cfg_section cfg_section_dist;  /* src/dist/dist_config.c */
extern const cfg_section cfg_section_runtime; /* src/dist/runtime.c */
extern const cfg_section cfg_section_model; /* src/model/model_config.c */
extern const cfg_section cfg_section_ckpt; /* src/io/ckpt_config.c */

const cfg_section *const cfg_sections[] = {
    &cfg_section_run,
    &cfg_section_log,
    &cfg_section_runtime,
    &cfg_section_train,
    &cfg_section_dist,
    &data_cfg_section,
    &cfg_section_model,
    &cfg_section_ckpt,
    NULL,
};
