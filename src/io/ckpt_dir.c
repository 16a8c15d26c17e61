/* ckpt_dir.c -- the run directory's checkpoints: listing, automatic resume (newest
 * checkpoint that verifies, skipping corrupt or partial ones with a warning),
 * retention of the last K plus the best, and export of a weights-only file. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/check.h"
#include "core/fsutil.h"
#include "core/h5lock.h"
#include "core/log.h"
#include "io/ckpt_internal.h"

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static int by_name_desc(const void *a, const void *b)
{
    return strcmp(((const ckpt_listing *)b)->name, ((const ckpt_listing *)a)->name);
}

dy_status ckpt_list(const char *dir, ckpt_listing **out, int *n)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) return DY_OK;
        SYS_CHECK(0, DY_EIO, "listing checkpoint directory %s", dir);
    }
    char latest[256] = "", best[256] = "";
    if (ckpt_read_pointer(dir, "latest", latest, sizeof latest) != DY_OK) latest[0] = '\0';
    if (ckpt_read_pointer(dir, "best", best, sizeof best) != DY_OK) best[0] = '\0';
    err_clear();
    int cap = 0;
    ckpt_listing *v = NULL;
    struct dirent *de;
    while ((de = readdir(d))) {
        int tmp = ends_with(de->d_name, ".h5.tmp");
        /* Only the trainer's names (ckpt_name_for_step): exported weights and other
         * HDF5 files in the directory are not checkpoints to resume from. */
        if (strncmp(de->d_name, "ckpt-", 5) || (!tmp && !ends_with(de->d_name, ".h5")) ||
            strlen(de->d_name) >= sizeof v->name)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            ckpt_listing *nv = realloc(v, (size_t)cap * sizeof *nv);
            if (!nv) {
                free(v);
                closedir(d);
                return DY_ERR(DY_ENOMEM, "checkpoint list");
            }
            v = nv;
        }
        ckpt_listing *l = &v[(*n)++];
        memset(l, 0, sizeof *l);
        snprintf(l->name, sizeof l->name, "%s", de->d_name);
        l->is_tmp = tmp;
        l->is_latest = !tmp && !strcmp(l->name, latest);
        l->is_best = !tmp && !strcmp(l->name, best);
    }
    closedir(d);
    if (*n) qsort(v, (size_t)*n, sizeof *v, by_name_desc);
    *out = v;
    return DY_OK;
}

dy_status ckpt_resume_auto(const char *dir, MPI_Comm comm, ckpt_reader **out)
{
    *out = NULL;
    int rank;
    MPI_CHECK(MPI_Comm_rank(comm, &rank));
    ckpt_listing *v = NULL;
    int n = 0;
    /* Every rank lists (they may disagree on a shared filesystem's cache): use rank 0's
     * view, broadcast, so all ranks try the same candidates in the same order. */
    dy_status s = rank == 0 ? ckpt_list(dir, &v, &n) : DY_OK;
    DY_TRY(ckpt_agree(comm, s));
    MPI_CHECK(MPI_Bcast(&n, 1, MPI_INT, 0, comm));
    if (rank != 0 && n > 0 && !(v = calloc((size_t)n, sizeof *v))) s = DY_ERR(DY_ENOMEM, "list");
    DY_TRY(ckpt_agree(comm, s));
    if (n) MPI_CHECK(MPI_Bcast(v, n * (int)sizeof *v, MPI_BYTE, 0, comm));
    int found_latest = 0, ncand = 0;
    for (int i = 0; i < n; i++) {
        found_latest |= v[i].is_latest;
        if (v[i].is_tmp) log_warn("ignoring %s/%s: a partial checkpoint (interrupted write)", dir, v[i].name);
        else ncand++;
    }
    if (ncand == 0) {
        free(v);
        return DY_OK;
    }
    if (!found_latest) log_warn("%s/latest is missing or names no checkpoint: trying the newest files", dir);
    /* Newest name first.  Files are renamed into place only when complete, so one
     * newer than `latest` (a crash between the rename and the pointer update) is
     * complete too and is preferred; it still has to verify. */
    for (int i = 0; i < n; i++) {
        if (v[i].is_tmp) continue;
        char path[CKPT_PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, v[i].name);
        s = ckpt_reader_open(out, path, comm);
        if (s == DY_OK) {
            if (v[i].is_latest) log_info("resuming from %s", path);
            else log_warn("resuming from %s, which %s/latest does not name", path, dir);
            free(v);
            return DY_OK;
        }
        log_warn("skipping checkpoint %s: %s", path, err_msg());
    }
    free(v);
    return DY_ERR(DY_ECORRUPT, "no checkpoint in %s verifies (%d tried; see the warnings above)", dir, ncand);
}

/* Does HDF5 open the file?  It refuses a truncated one (end of file before the end of
 * its allocated space) after reading only the superblock: cheap enough to call for
 * every checkpoint at every commit, unlike a full checksum pass. */
static int opens(const char *path)
{
    if (fs_check_hdf5_checksummed(path, "checkpoint", "") != DY_OK) return 0;
    h5lock_acquire(); /* an asynchronous commit runs this beside the loader's reads */
    hid_t f;
    H5E_BEGIN_TRY { f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT); }
    H5E_END_TRY;
    if (f >= 0) H5Fclose(f);
    h5lock_release();
    return f >= 0;
}

dy_status ckpt_retain(const char *dir, int keep)
{
    ckpt_listing *v;
    int n, kept = 0;
    DY_TRY(ckpt_list(dir, &v, &n));
    dy_status s = DY_OK;
    for (int i = 0; i < n; i++) {
        char path[CKPT_PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, v[i].name);
        /* A damaged file is not one of the newest `keep` (counting it once deleted the
         * last good checkpoint); it is left alone until it falls out of the window. */
        if (!v[i].is_tmp && !v[i].is_best && kept < keep && !opens(path)) {
            log_warn("checkpoint %s does not open (truncated?): not counted among the newest %d", path, keep);
            continue;
        }
        int drop = v[i].is_tmp || (!v[i].is_best && !v[i].is_latest && kept >= keep);
        if (!v[i].is_tmp && !v[i].is_best) kept++;
        if (!drop) continue;
        if (unlink(path) != 0 && errno != ENOENT && s == DY_OK)
            s = DY_ERR(DY_EIO, "removing old checkpoint %s: %s", path, strerror(errno));
        else log_debug("removed old checkpoint %s", path);
    }
    free(v);
    return s;
}

/* Copy the array named (prefix + base) from r into w under base. */
static dy_status export_group(const ckpt_reader *r, ckpt_writer *w, const char *prefix, const char *base)
{
    char name[CKPT_NAME_MAX];
    snprintf(name, sizeof name, "%s%s", prefix, base);
    const ckpt_entry *e;
    for (int i = 0; i < ckpt_reader_nentries(r); i++) {
        e = ckpt_reader_entry(r, i);
        if (strcmp(e->name, name)) continue;
        if (e->kind == CKPT_KIND_ARRAY) DY_TRY(ckpt_add_array_ref(w, base, e->dtype, e->data, e->n));
    }
    return DY_OK;
}

dy_status ckpt_export(const char *ckpt_path, const char *out_path, MPI_Comm comm)
{
    ckpt_reader *r;
    DY_TRY(ckpt_reader_open(&r, ckpt_path, comm));
    int rank;
    MPI_Comm_rank(comm, &rank);
    const char *src = ckpt_find(r, "ema.params") ? "ema." : "model.";
    dy_status s = ckpt_find(r, "model.params") || ckpt_find(r, "ema.params")
                      ? DY_OK
                      : DY_ERR(DY_ENOENT, "%s has neither ema.params nor model.params", ckpt_path);
    char dir[CKPT_PATH_MAX], *slash;
    snprintf(dir, sizeof dir, "%s", out_path);
    slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : out_path;
    if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    ckpt_writer *w = NULL;
    if (s == DY_OK && rank == 0) {
        /* Weights are tiny next to the training state: one rank writes them. */
        s = ckpt_writer_begin(&w, dir, base, MPI_COMM_SELF);
        if (s == DY_OK) s = export_group(r, w, src, "params");
        if (s == DY_OK) s = export_group(r, w, src, "buffers");
        if (s == DY_OK) ckpt_writer_set_pointers(w, 0);
        /* The name tables describe the layout, the same for the model and its EMA. */
        for (int i = 0; i < ckpt_reader_nentries(r) && s == DY_OK; i++) {
            const ckpt_entry *e = ckpt_reader_entry(r, i);
            if (e->kind == CKPT_KIND_TEXT && (!strcmp(e->name, "config") || !strcmp(e->name, "model_spec") ||
                                              !strcmp(e->name, "class_names")))
                s = ckpt_add_text(w, e->name, e->data);
            if (e->kind == CKPT_KIND_TABLE && !strncmp(e->name, "model.", 6))
                s = ckpt_add_table(w, e->name + 6, e->data, e->n);
        }
        if (s == DY_OK) s = ckpt_attr_set_str(w, "schema", CKPT_WEIGHTS_SCHEMA_NAME);
        if (s == DY_OK) s = ckpt_attr_set_str(w, "weights_from", src[0] == 'e' ? "ema" : "model");
        if (s == DY_OK) s = ckpt_attr_set_str(w, "source_checkpoint", ckpt_path);
        for (int i = 0; i < ckpt_reader_nattrs(r) && s == DY_OK; i++) {
            const ckpt_attr *a = ckpt_reader_attr(r, i);
            if (!strcmp(a->name, "step") || !strcmp(a->name, "epoch") || !strcmp(a->name, "nc") ||
                !strcmp(a->name, "imgsz"))
                s = ckpt_attr_set_int(w, a->name, a->i);
        }
        if (s == DY_OK) s = ckpt_commit(w);
        ckpt_writer_free(w);
    }
    ckpt_reader_close(r);
    return ckpt_agree(comm, s);
}
