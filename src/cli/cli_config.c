/* cli_config.c -- `dyolo config`: validate a config, print the effective config,
 * or print the schema (the source of configs/README.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char config_help[] =
    "usage: dyolo config [--config FILE] [--set KEY=VALUE]... [--print | --schema [--markdown]]\n"
    "\n"
    "Build the effective configuration (built-in defaults < FILE < --set) and check\n"
    "it against the schema. Without --print or --schema it only validates and says\n"
    "\"config OK\". Errors name the file, line and key.\n"
    "\n"
    "  --print                print the effective config as JSON\n"
    "  --schema               list every key: type, default, range, meaning\n"
    "  --markdown             with --schema: a Markdown table (configs/README.md)\n" CLI_COMMON_HELP;

int cli_config_main(int argc, char **argv)
{
    cli_common o = {0};
    int print = 0, schema = 0, markdown = 0;
    for (int i = 1; i < argc; i++) {
        int r = cli_common_option(&o, argc, argv, &i);
        if (r < 0) return cli_usage_error("config", "option \"%s\" needs a value", argv[i]);
        if (r > 0) continue;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(config_help, stdout);
            return CLI_EXIT_OK;
        } else if (!strcmp(argv[i], "--print")) {
            print = 1;
        } else if (!strcmp(argv[i], "--schema")) {
            schema = 1;
        } else if (!strcmp(argv[i], "--markdown")) {
            markdown = 1;
        } else {
            return cli_usage_error("config", "unknown option \"%s\"", argv[i]);
        }
    }
    if (schema) {
        cfg_schema_print(stdout, markdown ? "markdown" : "text");
        return CLI_EXIT_OK;
    }
    cfg *c = NULL;
    if (cli_build_config(&o, &c) != DY_OK) return cli_fail("config");
    if (print) {
        char *s = cfg_to_json(c);
        if (s) printf("%s\n", s);
        free(s);
    } else {
        printf("config OK%s%s\n", o.config_file ? ": " : "", o.config_file ? o.config_file : "");
    }
    cfg_free(c);
    return CLI_EXIT_OK;
}
