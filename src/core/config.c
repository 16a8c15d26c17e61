/* config.c -- implementation of config.h: schema defaults, file loading with
 * includes, validation with file:line diagnostics, --set overrides, accessors. */
#include "core/config.h"
#include "core/fsutil.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CFG_MAX_INCLUDE_DEPTH 16
#define CFG_PATH_MAX 512

struct cfg {
    cJSON *root;
};

/* ------------------------------------------------------------------ schema lookup */

const cfg_key *cfg_schema_find(const char *path)
{
    for (int s = 0; cfg_sections[s]; s++)
        for (int k = 0; k < cfg_sections[s]->nkeys; k++)
            if (strcmp(cfg_sections[s]->keys[k].path, path) == 0) return &cfg_sections[s]->keys[k];
    return NULL;
}

/* True when some schema key lives below `prefix` (so it names a section object). */
static int schema_is_section(const char *prefix)
{
    size_t n = strlen(prefix);
    for (int s = 0; cfg_sections[s]; s++)
        for (int k = 0; k < cfg_sections[s]->nkeys; k++) {
            const char *p = cfg_sections[s]->keys[k].path;
            if (strncmp(p, prefix, n) == 0 && p[n] == '.') return 1;
        }
    return 0;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 127 || lb > 127) return (size_t)-1;
    size_t row[128];
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static const char *leaf_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot ? dot + 1 : path;
}

const char *cfg_suggest(const char *path)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (int s = 0; cfg_sections[s]; s++)
        for (int k = 0; k < cfg_sections[s]->nkeys; k++) {
            const char *cand = cfg_sections[s]->keys[k].path;
            /* Same leaf in another section ("train.imgsz" for "data.imgsz") is a good guess. */
            size_t d = strcmp(leaf_of(cand), leaf_of(path)) == 0 ? 1 : edit_distance(path, cand);
            if (d < best_d) {
                best_d = d;
                best = cand;
            }
        }
    size_t limit = strlen(path) / 3 > 2 ? strlen(path) / 3 : 2;
    return best_d <= limit ? best : NULL;
}

static dy_status unknown_key(const char *where, const char *path)
{
    const char *sug = cfg_suggest(path);
    if (sug) return DY_ERR(DY_EINVAL, "%sunknown key \"%s\" (did you mean \"%s\"?)", where, path, sug);
    return DY_ERR(DY_EINVAL, "%sunknown key \"%s\" (see `dyolo config --schema`)", where, path);
}

/* ------------------------------------------------------------------ tree helpers */

/* Sets `value` at dotted `path` below root, creating section objects; takes ownership. */
static void tree_set(cJSON *root, const char *path, cJSON *value)
{
    char buf[CFG_PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    cJSON *node = root;
    char *save = NULL;
    char *seg = strtok_r(buf, ".", &save);
    for (char *next = strtok_r(NULL, ".", &save); next; seg = next, next = strtok_r(NULL, ".", &save)) {
        cJSON *child = cJSON_GetObjectItemCaseSensitive(node, seg);
        if (!cJSON_IsObject(child)) {
            if (child) cJSON_DeleteItemFromObjectCaseSensitive(node, seg);
            child = cJSON_AddObjectToObject(node, seg);
        }
        node = child;
    }
    if (cJSON_GetObjectItemCaseSensitive(node, seg))
        cJSON_ReplaceItemInObjectCaseSensitive(node, seg, value);
    else
        cJSON_AddItemToObject(node, seg, value);
}

static const cJSON *tree_get(const cJSON *root, const char *path)
{
    char buf[CFG_PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *node = root;
    char *save = NULL;
    for (char *seg = strtok_r(buf, ".", &save); seg && node; seg = strtok_r(NULL, ".", &save))
        node = cJSON_GetObjectItemCaseSensitive(node, seg);
    return node;
}

/* Overlay src onto dst, recursively for objects; leaves of src replace dst's. */
static void tree_merge(cJSON *dst, const cJSON *src, const char *prefix)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, src) {
        char path[CFG_PATH_MAX];
        snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", it->string);
        if (cJSON_IsObject(it))
            tree_merge(dst, it, path);
        else
            tree_set(dst, path, cJSON_Duplicate(it, 1));
    }
}

/* ------------------------------------------------------------------ validation */

static int enum_has(const char *choices, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = choices; *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, v, n) == 0) return 1;
        if (!bar) break;
        p = bar + 1;
    }
    return 0;
}

static const char *json_kind(const cJSON *v)
{
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    if (cJSON_IsNull(v)) return "null";
    return "an unknown value";
}

static dy_status check_range(const char *where, const cfg_key *k, double v)
{
    if (k->min <= k->max && (v < k->min || v > k->max))
        return DY_ERR(DY_ERANGE, "%skey \"%s\" = %g is out of range [%g, %g]", where, k->path, v,
                      k->min, k->max);
    return DY_OK;
}

/* CFG_INT keys whose choices are "*N" must be multiples of N (data.imgsz: the network
 * stride; a size the model cannot divide used to corrupt the loader's buffers). */
static int int_multiple(const cfg_key *k)
{
    return k->type == CFG_INT && k->choices && k->choices[0] == '*' ? atoi(k->choices + 1) : 0;
}

static dy_status check_multiple(const char *where, const cfg_key *k, double v)
{
    int m = int_multiple(k);
    if (m > 1 && fmod(v, m) != 0) {
        int64_t lo = (int64_t)floor(v / m) * m;
        return DY_ERR(DY_ERANGE, "%skey \"%s\" = %g is not a multiple of %d (use %lld or %lld)", where, k->path, v, m,
                      (long long)(lo > 0 ? lo : m), (long long)(lo + m));
    }
    return DY_OK;
}

/* Offset of the first byte that is not well-formed UTF-8 (RFC 3629: no overlong
 * forms, surrogates or code points past U+10FFFF), or -1.  Strings go verbatim into
 * config.json, summary.json and checkpoints, which must stay valid JSON/UTF-8. */
static long utf8_bad(const unsigned char *p)
{
    for (const unsigned char *s = p; *s;) {
        int n = *s < 0x80 ? 0 : *s >= 0xC2 && *s <= 0xDF ? 1 : *s >= 0xE0 && *s <= 0xEF ? 2 : *s >= 0xF0 && *s <= 0xF4 ? 3 : -1;
        if (n < 0) return (long)(s - p);
        unsigned lo = 0x80, hi = 0xBF; /* the second byte's range */
        if (*s == 0xE0) lo = 0xA0;
        else if (*s == 0xED) hi = 0x9F;
        else if (*s == 0xF0) lo = 0x90;
        else if (*s == 0xF4) hi = 0x8F;
        for (int k = 1; k <= n; k++)
            if (s[k] < (k == 1 ? lo : 0x80) || s[k] > (k == 1 ? hi : 0xBF)) return (long)(s - p);
        s += n + 1;
    }
    return -1;
}

static dy_status check_utf8(const char *where, const cfg_key *k, const char *v)
{
    long bad = utf8_bad((const unsigned char *)v);
    if (bad >= 0) return DY_ERR(DY_EINVAL, "%skey \"%s\": not valid UTF-8 (byte %ld)", where, k->path, bad + 1);
    return DY_OK;
}

/* `where` is a prefix such as "cfg.json:12: " or "--set a.b=c: ". */
static dy_status validate_value(const char *where, const cfg_key *k, const cJSON *v)
{
    static const char *const want[] = {"an integer", "a number", "a boolean (true/false)",
                                       "a string", "a string", "an array of numbers"};
    switch (k->type) {
    case CFG_INT:
        if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble)) break;
        DY_TRY(check_range(where, k, v->valuedouble));
        return check_multiple(where, k, v->valuedouble);
    case CFG_FLOAT:
        if (!cJSON_IsNumber(v)) break;
        return check_range(where, k, v->valuedouble);
    case CFG_BOOL:
        if (!cJSON_IsBool(v)) break;
        return DY_OK;
    case CFG_STRING:
        if (!cJSON_IsString(v)) break;
        return check_utf8(where, k, v->valuestring);
    case CFG_ENUM:
        if (!cJSON_IsString(v)) break;
        if (!enum_has(k->choices, v->valuestring))
            return DY_ERR(DY_EINVAL, "%skey \"%s\" = \"%s\" is not one of %s", where, k->path,
                          v->valuestring, k->choices);
        return DY_OK;
    case CFG_FLOAT_LIST: {
        if (!cJSON_IsArray(v)) break;
        const cJSON *it;
        cJSON_ArrayForEach(it, v) {
            if (!cJSON_IsNumber(it))
                return DY_ERR(DY_EINVAL, "%skey \"%s\": list items must be numbers, got %s", where,
                              k->path, json_kind(it));
            DY_TRY(check_range(where, k, it->valuedouble));
        }
        return DY_OK;
    }
    }
    if (k->type == CFG_INT && cJSON_IsNumber(v))
        return DY_ERR(DY_EINVAL, "%skey \"%s\": expected an integer, got %g", where, k->path,
                      v->valuedouble);
    return DY_ERR(DY_EINVAL, "%skey \"%s\": expected %s, got %s", where, k->path, want[k->type],
                  json_kind(v));
}

/* Line of `path`'s key in the JSON text: find each segment's "name": in turn. */
static int key_line(const char *text, const char *path)
{
    char buf[CFG_PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    const char *pos = text;
    char *save = NULL;
    for (char *seg = strtok_r(buf, ".", &save); seg; seg = strtok_r(NULL, ".", &save)) {
        char pat[CFG_PATH_MAX + 2];
        snprintf(pat, sizeof pat, "\"%s\"", seg);
        const char *hit = NULL;
        for (const char *p = strstr(pos, pat); p; p = strstr(p + 1, pat)) {
            const char *q = p + strlen(pat);
            while (isspace((unsigned char)*q)) q++;
            if (*q == ':') {
                hit = p;
                break;
            }
        }
        if (!hit) return 0;
        pos = hit + 1;
    }
    int line = 1;
    for (const char *p = text; p < pos; p++) line += *p == '\n';
    return line;
}

static dy_status validate_tree(const char *file, const char *text, const cJSON *node, const char *prefix)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, node) {
        char path[CFG_PATH_MAX], where[CFG_PATH_MAX + 32];
        snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", it->string);
        int line = key_line(text, path);
        if (line > 0)
            snprintf(where, sizeof where, "%s:%d: ", file, line);
        else
            snprintf(where, sizeof where, "%s: ", file);
        /* cJSON keeps both copies and reads the first: a later "fix" would be ignored. */
        for (const cJSON *p = node->child; p != it; p = p->next)
            if (p->string && it->string && !strcmp(p->string, it->string))
                return DY_ERR(DY_EINVAL, "%skey \"%s\" appears twice (only one value can apply)", where, path);
        const cfg_key *k = cfg_schema_find(path);
        if (k) {
            DY_TRY(validate_value(where, k, it));
        } else if (schema_is_section(path)) {
            if (!cJSON_IsObject(it))
                return DY_ERR(DY_EINVAL, "%skey \"%s\" is a section and must be an object, got %s",
                              where, path, json_kind(it));
            DY_TRY(validate_tree(file, text, it, path));
        } else {
            return unknown_key(where, path);
        }
    }
    return DY_OK;
}

/* ------------------------------------------------------------------ files */

static dy_status read_text(const char *path, char **out) { return fs_read_file(path, "config file", out, NULL); }

static dy_status parse_text(const char *file, const char *text, cJSON **out)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(text, &end, 1);
    if (!j) {
        if (!end) end = text;
        int line = 1, col = 1;
        for (const char *p = text; p < end && *p; p++) {
            if (*p == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        char near[24] = "";
        size_t i = 0;
        for (const char *p = end; *p && *p != '\n' && i + 1 < sizeof near; p++) near[i++] = *p;
        near[i] = '\0';
        if (!*text || strspn(text, " \t\r\n") == strlen(text))
            return DY_ERR(DY_EFORMAT, "%s:1:1: malformed JSON: the file is empty", file);
        return DY_ERR(DY_EFORMAT, "%s:%d:%d: malformed JSON near \"%s\"", file, line, col, near);
    }
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return DY_ERR(DY_EFORMAT, "%s:1: the top level of a config file must be a JSON object", file);
    }
    *out = j;
    return DY_OK;
}

static void resolve_relative(char *out, size_t len, const char *base_file, const char *rel)
{
    const char *slash = strrchr(base_file, '/');
    if (rel[0] == '/' || !slash)
        snprintf(out, len, "%s", rel);
    else
        snprintf(out, len, "%.*s/%s", (int)(slash - base_file), base_file, rel);
}

static dy_status load_tree(cfg *c, const char *path, int depth);

static dy_status load_includes(cfg *c, const char *file, const char *text, const cJSON *inc, int depth)
{
    int line = key_line(text, "include");
    if (cJSON_IsString(inc)) {
        char p[CFG_PATH_MAX * 2];
        resolve_relative(p, sizeof p, file, inc->valuestring);
        DY_TRY_CTX(load_tree(c, p, depth + 1), "%s:%d: in include", file, line);
        return DY_OK;
    }
    if (!cJSON_IsArray(inc))
        return DY_ERR(DY_EINVAL, "%s:%d: key \"include\": expected a file name or a list of them, got %s",
                      file, line, json_kind(inc));
    const cJSON *it;
    cJSON_ArrayForEach(it, inc) {
        if (!cJSON_IsString(it))
            return DY_ERR(DY_EINVAL, "%s:%d: key \"include\": list items must be file names", file, line);
        DY_TRY(load_includes(c, file, text, it, depth));
    }
    return DY_OK;
}

static dy_status load_tree(cfg *c, const char *path, int depth)
{
    if (depth > CFG_MAX_INCLUDE_DEPTH)
        return DY_ERR(DY_EINVAL, "%s: includes nested more than %d deep (an include cycle?)", path,
                      CFG_MAX_INCLUDE_DEPTH);
    char *text = NULL;
    cJSON *tree = NULL;
    DY_TRY(read_text(path, &text));
    dy_status s = parse_text(path, text, &tree);
    if (s == DY_OK) {
        cJSON *inc = cJSON_DetachItemFromObjectCaseSensitive(tree, "include");
        if (inc) s = load_includes(c, path, text, inc, depth);
        cJSON_Delete(inc);
    }
    if (s == DY_OK) s = validate_tree(path, text, tree, "");
    if (s == DY_OK) tree_merge(c->root, tree, "");
    cJSON_Delete(tree);
    free(text);
    return s;
}

/* ------------------------------------------------------------------ public API */

dy_status cfg_new(cfg **out)
{
    cfg *c = calloc(1, sizeof *c);
    if (!c || !(c->root = cJSON_CreateObject())) {
        free(c);
        return DY_ERR(DY_ENOMEM, "config: out of memory");
    }
    for (int s = 0; cfg_sections[s]; s++)
        for (int k = 0; k < cfg_sections[s]->nkeys; k++) {
            const cfg_key *key = &cfg_sections[s]->keys[k];
            cJSON *v = cJSON_Parse(key->def);
            if (!v || validate_value("built-in default: ", key, v) != DY_OK) {
                cJSON_Delete(v);
                cfg_free(c);
                return DY_ERR(DY_EINVAL, "schema bug: bad default for \"%s\": %s", key->path, key->def);
            }
            tree_set(c->root, key->path, v);
        }
    *out = c;
    return DY_OK;
}

void cfg_free(cfg *c)
{
    if (!c) return;
    cJSON_Delete(c->root);
    free(c);
}

dy_status cfg_load_file(cfg *c, const char *path) { return load_tree(c, path, 0); }

static cJSON *parse_set_value(const cfg_key *k, const char *v)
{
    char *end = NULL;
    switch (k->type) {
    case CFG_INT: {
        errno = 0;
        double d = strtod(v, &end);
        return (*v && !*end && !errno) ? cJSON_CreateNumber(d) : cJSON_CreateString(v);
    }
    case CFG_FLOAT: {
        errno = 0;
        double d = strtod(v, &end);
        return (*v && !*end && !errno && isfinite(d)) ? cJSON_CreateNumber(d) : cJSON_CreateString(v);
    }
    case CFG_BOOL:
        if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes")) return cJSON_CreateTrue();
        if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no")) return cJSON_CreateFalse();
        return cJSON_CreateString(v);
    case CFG_STRING:
    case CFG_ENUM:
        return cJSON_CreateString(v);
    case CFG_FLOAT_LIST: {
        if (v[0] == '[') return cJSON_Parse(v);
        char tmp[CFG_PATH_MAX * 2];
        snprintf(tmp, sizeof tmp, "[%s]", v);
        return cJSON_Parse(tmp);
    }
    }
    return NULL;
}

dy_status cfg_set(cfg *c, const char *assignment)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return DY_ERR(DY_EINVAL, "--set \"%s\": expected key.path=value", assignment);
    char path[CFG_PATH_MAX], where[CFG_PATH_MAX * 2];
    snprintf(path, sizeof path, "%.*s", (int)(eq - assignment), assignment);
    snprintf(where, sizeof where, "--set %s: ", assignment);
    if (utf8_bad((const unsigned char *)where) >= 0) /* do not echo bad bytes to the terminal */
        snprintf(where, sizeof where, "--set %s=...: ", path);
    const cfg_key *k = cfg_schema_find(path);
    if (!k) return unknown_key(where, path);
    cJSON *v = parse_set_value(k, eq + 1);
    if (!v) return DY_ERR(DY_EFORMAT, "%skey \"%s\": cannot parse \"%s\"", where, path, eq + 1);
    dy_status s = validate_value(where, k, v);
    if (s != DY_OK) {
        cJSON_Delete(v);
        return s;
    }
    tree_set(c->root, path, v);
    return DY_OK;
}

static const cJSON *get_checked(const cfg *c, const char *path, cfg_type t1, cfg_type t2)
{
    const cfg_key *k = cfg_schema_find(path);
    const cJSON *v = tree_get(c->root, path);
    if (!k || !v || (k->type != t1 && k->type != t2)) {
        fprintf(stderr, "dyolo: internal error: config key \"%s\" read with the wrong type or not declared\n",
                path);
        abort();
    }
    return v;
}

int64_t cfg_int(const cfg *c, const char *path)
{
    return (int64_t)get_checked(c, path, CFG_INT, CFG_INT)->valuedouble;
}
double cfg_float(const cfg *c, const char *path)
{
    return get_checked(c, path, CFG_FLOAT, CFG_INT)->valuedouble;
}
int cfg_bool(const cfg *c, const char *path) { return cJSON_IsTrue(get_checked(c, path, CFG_BOOL, CFG_BOOL)); }
const char *cfg_str(const cfg *c, const char *path)
{
    return get_checked(c, path, CFG_STRING, CFG_ENUM)->valuestring;
}

int cfg_floats(const cfg *c, const char *path, float *out, int max)
{
    const cJSON *v = get_checked(c, path, CFG_FLOAT_LIST, CFG_FLOAT_LIST), *it;
    int n = 0;
    cJSON_ArrayForEach(it, v) {
        if (n < max) out[n] = (float)it->valuedouble;
        n++;
    }
    return n;
}

const cJSON *cfg_json(const cfg *c) { return c->root; }

char *cfg_to_json(const cfg *c)
{
    char *s = cJSON_Print(c->root);
    if (!s) return NULL;
    char *copy = strdup(s);
    cJSON_free(s);
    return copy;
}

dy_status cfg_write_json(const cfg *c, const char *path)
{
    char *s = cfg_to_json(c);
    if (!s) return DY_ERR(DY_ENOMEM, "config: cannot serialize");
    char tmp[CFG_PATH_MAX * 2];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        free(s);
        return DY_ERR(DY_EIO, "cannot write \"%s\": %s", tmp, strerror(errno));
    }
    int bad = fprintf(f, "%s\n", s) < 0;
    bad |= fclose(f) != 0;
    int e = errno;
    free(s);
    if (bad || rename(tmp, path) != 0) {
        if (!bad) e = errno;
        remove(tmp);
        return DY_ERR(DY_EIO, "cannot write \"%s\": %s", path, strerror(e));
    }
    return DY_OK;
}

static void print_default(FILE *f, const cfg_key *k)
{
    fputs(k->def, f);
}

void cfg_schema_print(FILE *f, const char *format)
{
    static const char *const tnames[] = {"int", "float", "bool", "string", "enum", "float list"};
    int md = strcmp(format, "markdown") == 0;
    if (md)
        fprintf(f, "# dyolo configuration reference\n\n"
                   "Generated by `dyolo config --schema --markdown` from the schema in the code;\n"
                   "a test fails when this file and the code disagree. Precedence: built-in\n"
                   "defaults < config file (`\"include\": \"base.json\"` or a list) < `--set key=value`.\n\n"
                   "| key | type | default | range / choices | meaning |\n|---|---|---|---|---|\n");
    for (int s = 0; cfg_sections[s]; s++) {
        const cfg_section *sec = cfg_sections[s];
        if (!md) fprintf(f, "\n[%s] %s\n", sec->name, sec->help);
        for (int i = 0; i < sec->nkeys; i++) {
            const cfg_key *k = &sec->keys[i];
            char range[128] = "";
            if (k->type == CFG_ENUM)
                snprintf(range, sizeof range, "%s", k->choices);
            else if (k->min <= k->max)
                snprintf(range, sizeof range, "[%g, %g]%s%s", k->min, k->max, int_multiple(k) ? ", multiple of " : "",
                         int_multiple(k) ? k->choices + 1 : "");
            if (md) {
                fprintf(f, "| `%s` | %s | `", k->path, tnames[k->type]);
                print_default(f, k);
                fprintf(f, "` | %s | %s |\n", range, k->help);
            } else {
                fprintf(f, "  %-32s %-10s default ", k->path, tnames[k->type]);
                print_default(f, k);
                fprintf(f, "%s%s\n      %s\n", range[0] ? "  " : "", range, k->help);
            }
        }
    }
}
