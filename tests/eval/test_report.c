/* test_report.c -- the validation report: table, JSON and PR-curve PNG, read back. */
#include <cjson/cJSON.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eval/report.h"
#include "tests/tap.h"

static int read_png(const char *path, int *w, int *h, unsigned char **rgb)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        fclose(f);
        return -1;
    }
    png_init_io(png, f);
    png_read_info(png, info);
    *w = (int)png_get_image_width(png, info), *h = (int)png_get_image_height(png, info);
    *rgb = malloc((size_t)*w * *h * 3);
    for (int y = 0; y < *h; y++) png_read_row(png, *rgb + (size_t)y * *w * 3, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    return 0;
}

int main(void)
{
    eval_set s;
    eval_set_init(&s, 2);
    eval_set_add_image(&s, 1);
    eval_gt g = {.image_id = 1, .ann_id = 1, .category = 0, .x = 10, .y = 10, .w = 50, .h = 50, .area = 2500};
    eval_set_add_gt(&s, &g);
    eval_dt d = {.image_id = 1, .category = 0, .x = 10, .y = 10, .w = 50, .h = 50, .score = 0.9};
    eval_set_add_dt(&s, &d);
    yolo_ap_result y;
    coco_eval_result c;
    yolo_ap_run(&s, &y);
    coco_eval_run(&s, &c);
    const char *names[] = {"cell", "other"};
    eval_report r = {names, 1, &c, &y, "coco"};

    char *buf = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&buf, &len);
    eval_report_print(mf, &r);
    fclose(mf);
    TAP_STR_HAS(buf, "mAP50-95", "table header");
    TAP_STR_HAS(buf, "cell", "table names the class");
    TAP_OK(!strstr(buf, "other"), "classes without labels are not listed");
    free(buf);

    char dir[] = "/tmp/dyolo-report-XXXXXX", json[64], png[64];
    mkdtemp(dir);
    snprintf(json, sizeof json, "%s/r.json", dir), snprintf(png, sizeof png, "%s/pr.png", dir);
    TAP_EQ_INT(eval_report_write_json(&r, json), DY_OK, "JSON report written");
    FILE *f = fopen(json, "r");
    char text[8192] = "";
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f) fclose(f);
    text[n] = '\0';
    cJSON *o = cJSON_Parse(text);
    TAP_OK(o && cJSON_GetObjectItem(o, "mAP50_95"), "JSON report parses");
    TAP_NEAR(cJSON_GetObjectItem(o, "mAP50_95")->valuedouble, c.stats[COCO_STAT_AP], 1e-12,
             "headline follows the chosen protocol (coco)");
    TAP_NEAR(cJSON_GetObjectItem(o, "fitness")->valuedouble, 0.1 * c.stats[1] + 0.9 * c.stats[0], 1e-12,
             "fitness = 0.1 mAP50 + 0.9 mAP50-95");
    cJSON_Delete(o);

    TAP_EQ_INT(eval_report_write_pr_png(&r, png), DY_OK, "PR curve PNG written");
    int w = 0, h = 0;
    unsigned char *rgb = NULL;
    TAP_EQ_INT(read_png(png, &w, &h, &rgb), 0, "PNG reads back with libpng");
    TAP_OK(w == 800 && h == 600, "PNG size");
    /* Perfect class: precision 1 at recall 0.33 -> plot pixel (70+0.33*480, 40) is drawn
     * (0.33: off the grid lines at multiples of 0.1). */
    const unsigned char *p = rgb + ((size_t)40 * w + 70 + 158) * 3;
    TAP_OK(!(p[0] == 255 && p[1] == 255 && p[2] == 255), "curve drawn at precision 1");
    const unsigned char *q = rgb + ((size_t)(40 + 480 - 0.33 * 480) * w + 70 + 158) * 3;
    TAP_OK(q[0] == 255 && q[1] == 255 && q[2] == 255, "nothing drawn at precision 0.33");
    free(rgb);
    TAP_OK(eval_report_write_pr_png(&r, "/nonexistent/dir/pr.png") == DY_EIO && strstr(err_msg(), "/nonexistent"),
           "unwritable path: clear error");
    unlink(json), unlink(png), rmdir(dir);
    yolo_ap_free(&y), coco_eval_free(&c), eval_set_free(&s);
    return tap_done();
}
