/* pt_zip.c -- implementation of pt_zip.h on libzip.  Every libzip call is checked and
 * its own message (zip_error_strerror / zip_file_strerror) is part of ours, with the
 * file and entry names. */
#include "io/pt_zip.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

typedef struct {
    char *key;
    void *data;
    size_t len;
} pt_cached;

struct pt_archive {
    char *path;
    zip_t *zip;
    char prefix[256];
    void *pickle;
    size_t pickle_len;
    pt_cached *cache;
    size_t ncache, cap;
};

const char *pt_archive_path(const pt_archive *a) { return a->path; }

/* A torch.save file from before torch 1.6 is a bare pickle, not a zip archive. */
static dy_status not_zip(const char *path, int code)
{
    unsigned char head[2] = {0, 0};
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(head, 1, 2, f) : 0;
    if (f) fclose(f);
    if (n == 2 && head[0] == 0x80 && head[1] <= 5)
        return DY_ERR(DY_EUNSUPPORTED, "%s: a legacy (torch < 1.6) .pt file, not a zip archive: re-save it with "
                      "torch.save in torch >= 1.6", path);
    zip_error_t ze;
    zip_error_init_with_code(&ze, code);
    dy_status s = DY_ERR(code == ZIP_ER_NOENT || code == ZIP_ER_OPEN ? DY_ENOENT : DY_ECORRUPT,
                         "%s: not a readable .pt archive: %s", path, zip_error_strerror(&ze));
    zip_error_fini(&ze);
    return s;
}

static dy_status read_entry(pt_archive *a, const char *name, size_t max, void **data, size_t *len)
{
    *data = NULL, *len = 0;
    zip_int64_t idx = zip_name_locate(a->zip, name, 0);
    if (idx < 0) return DY_ERR(DY_ENOENT, "%s: the archive has no entry \"%s\"", a->path, name);
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(a->zip, (zip_uint64_t)idx, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
        return DY_ERR(DY_ECORRUPT, "%s: entry \"%s\": %s", a->path, name, zip_strerror(a->zip));
    if (st.size > max)
        return DY_ERR(DY_ERANGE, "%s: entry \"%s\" claims %llu bytes (over the limit of %zu)", a->path, name,
                      (unsigned long long)st.size, max);
    zip_file_t *zf = zip_fopen_index(a->zip, (zip_uint64_t)idx, 0);
    if (!zf) return DY_ERR(DY_ECORRUPT, "%s: entry \"%s\": %s", a->path, name, zip_strerror(a->zip));
    size_t n = (size_t)st.size;
    char *buf = malloc(n + 1);
    dy_status s = buf ? DY_OK : DY_ERR(DY_ENOMEM, "%s: out of memory for entry \"%s\"", a->path, name);
    size_t got = 0;
    /* Read to the end and one byte past it: libzip checks the CRC-32 at the end. */
    while (s == DY_OK) {
        zip_int64_t r = zip_fread(zf, buf + got, n + 1 - got);
        if (r < 0) s = DY_ERR(DY_ECORRUPT, "%s: entry \"%s\": %s", a->path, name, zip_file_strerror(zf));
        else if (r == 0) break;
        else if ((got += (size_t)r) > n)
            s = DY_ERR(DY_ECORRUPT, "%s: entry \"%s\" holds more than its %zu bytes", a->path, name, n);
    }
    if (s == DY_OK && got != n)
        s = DY_ERR(DY_ECORRUPT, "%s: entry \"%s\" holds %zu bytes, its header says %zu", a->path, name, got, n);
    if (zip_fclose(zf) != 0 && s == DY_OK) s = DY_ERR(DY_ECORRUPT, "%s: entry \"%s\": close failed", a->path, name);
    if (s != DY_OK) {
        free(buf);
        return s;
    }
    buf[n] = '\0';
    *data = buf, *len = n;
    return DY_OK;
}

/* PREFIX is the folder of the one entry named PREFIX/data.pkl. */
static dy_status find_prefix(pt_archive *a)
{
    zip_int64_t n = zip_get_num_entries(a->zip, 0);
    if (n < 0) return DY_ERR(DY_ECORRUPT, "%s: %s", a->path, zip_strerror(a->zip));
    int found = 0;
    for (zip_int64_t i = 0; i < n; i++) {
        const char *nm = zip_get_name(a->zip, (zip_uint64_t)i, 0);
        if (!nm) return DY_ERR(DY_ECORRUPT, "%s: entry %lld: %s", a->path, (long long)i, zip_strerror(a->zip));
        const char *slash = strchr(nm, '/');
        if (!slash || strcmp(slash, "/data.pkl")) continue;
        size_t len = (size_t)(slash - nm);
        if (len >= sizeof a->prefix) continue;
        if (found++) return DY_ERR(DY_EFORMAT, "%s: more than one data.pkl in the archive", a->path);
        memcpy(a->prefix, nm, len), a->prefix[len] = '\0';
    }
    if (!found) return DY_ERR(DY_EFORMAT, "%s: a zip archive without PREFIX/data.pkl: not a PyTorch .pt file", a->path);
    return DY_OK;
}

static dy_status check_version(pt_archive *a)
{
    char name[300];
    void *v;
    size_t n;
    snprintf(name, sizeof name, "%s/version", a->prefix);
    DY_TRY(read_entry(a, name, 64, &v, &n));
    char *end;
    long ver = strtol(v, &end, 10);
    int ok = end != v && ver >= 1 && ver <= 3;
    free(v);
    if (!ok) return DY_ERR(DY_EUNSUPPORTED, "%s: serialization version \"%s\" is not 1..3", a->path, name);
    snprintf(name, sizeof name, "%s/byteorder", a->prefix);
    if (zip_name_locate(a->zip, name, 0) < 0) return DY_OK; /* torch < 2.1: always little-endian */
    DY_TRY(read_entry(a, name, 64, &v, &n));
    ok = !strncmp(v, "little", 6);
    free(v);
    return ok ? DY_OK : DY_ERR(DY_EUNSUPPORTED, "%s: a big-endian .pt file", a->path);
}

dy_status pt_archive_open(const char *path, pt_archive **out)
{
    *out = NULL;
    pt_archive *a = calloc(1, sizeof *a);
    if (!a || !(a->path = strdup(path))) {
        free(a);
        return DY_ERR(DY_ENOMEM, "out of memory");
    }
    int code = 0;
    a->zip = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &code);
    dy_status s = a->zip ? DY_OK : not_zip(path, code);
    if (s == DY_OK) s = find_prefix(a);
    if (s == DY_OK) s = check_version(a);
    if (s != DY_OK) {
        pt_archive_close(a);
        return s;
    }
    *out = a;
    return DY_OK;
}

dy_status pt_archive_pickle(pt_archive *a, const void **data, size_t *len)
{
    if (!a->pickle) {
        char name[300];
        snprintf(name, sizeof name, "%s/data.pkl", a->prefix);
        DY_TRY(read_entry(a, name, PT_MAX_PICKLE, &a->pickle, &a->pickle_len));
    }
    *data = a->pickle, *len = a->pickle_len;
    return DY_OK;
}

dy_status pt_archive_storage(pt_archive *a, const char *key, const void **data, size_t *len)
{
    for (size_t i = 0; i < a->ncache; i++)
        if (!strcmp(a->cache[i].key, key)) {
            *data = a->cache[i].data, *len = a->cache[i].len;
            return DY_OK;
        }
    if (a->ncache == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        pt_cached *c = realloc(a->cache, cap * sizeof *c);
        if (!c) return DY_ERR(DY_ENOMEM, "out of memory");
        a->cache = c, a->cap = cap;
    }
    char name[512];
    if ((size_t)snprintf(name, sizeof name, "%s/data/%s", a->prefix, key) >= sizeof name)
        return DY_ERR(DY_EFORMAT, "%s: storage key \"%.40s...\" too long", a->path, key);
    pt_cached *c = &a->cache[a->ncache];
    DY_TRY_CTX(read_entry(a, name, PT_MAX_ENTRY, &c->data, &c->len), "storage %s", key);
    if (!(c->key = strdup(key))) {
        free(c->data);
        return DY_ERR(DY_ENOMEM, "out of memory");
    }
    a->ncache++;
    *data = c->data, *len = c->len;
    return DY_OK;
}

void pt_archive_close(pt_archive *a)
{
    if (!a) return;
    for (size_t i = 0; i < a->ncache; i++) free(a->cache[i].key), free(a->cache[i].data);
    free(a->cache);
    free(a->pickle);
    if (a->zip) zip_discard(a->zip); /* read-only: nothing to write back */
    free(a->path);
    free(a);
}
