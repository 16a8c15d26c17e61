/* coco_tool.c -- test driver: evaluates a COCO ground-truth file and a results
 * file with dyolo's coco protocol and prints the stats as JSON, so the test script
 * can compare them with pycocotools on the very same files. */
#include <stdio.h>
#include <stdlib.h>

#include "eval/coco_eval.h"
#include "eval/coco_json.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: coco_tool GT.json RESULTS.json\n");
        return 2;
    }
    eval_set s;
    coco_eval_result r;
    if (coco_json_load(argv[1], argv[2], &s, NULL) != DY_OK || coco_eval_run(&s, &r) != DY_OK) {
        fprintf(stderr, "coco_tool: %s\n", err_msg());
        return 1;
    }
    printf("{\"stats\": [");
    for (int i = 0; i < COCO_NSTATS; i++) printf("%s%.17g", i ? ", " : "", r.stats[i]);
    printf("], \"class_ap\": [");
    for (int k = 0; k < r.ncat; k++) printf("%s%.17g", k ? ", " : "", r.class_ap[k]);
    printf("]}\n");
    coco_eval_free(&r);
    eval_set_free(&s);
    return 0;
}
