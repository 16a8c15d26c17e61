/* fuzz_pt.c -- libFuzzer target for `dyolo import` (io/pt_zip.c, io/unpickle.c,
 * io/pt_import.c): the whole import of one .pt file into a dyolo-weights file in the
 * scratch folder, on MPI_COMM_SELF.
 *
 * Two kinds of input.  One that starts with a zip signature is the .pt itself, so the
 * archive checks are fuzzed (libzip verifies each entry's CRC-32, so a mutated entry
 * rarely gets further).  Any other input is a pickle, which the harness wraps into a
 * valid archive: archive/data.pkl, archive/version, and one zero-filled
 * archive/data/KEY of the declared size for every storage the pickle names (up to a
 * total of 16 MB), so mutations of the pickle reach the import's mapping of tensors
 * to the model (select_weights, model.yaml to spec, anchors, class names, shapes).
 * No HDF5 object may remain open afterwards.
 * defines: LLVMFuzzerInitialize, LLVMFuzzerTestOneInput */
#include "fuzz_util.h"
#include "pk_walk.h"

#include <hdf5.h>
#include <zip.h>

#include "io/pt_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

#define FZ_PT_MAX_STORAGE ((size_t)16 << 20)
static uint8_t *zeros; /* FZ_PT_MAX_STORAGE zero bytes, shared by every storage entry */

typedef struct {
    zip_t *z;
    size_t total;
} wrap_ctx;

static void add_storage(const pk_storage *st, void *p)
{
    wrap_ctx *c = p;
    size_t esz = pk_dtype_size(st->dtype);
    if (st->numel < 0 || esz == 0 || (size_t)st->numel > (FZ_PT_MAX_STORAGE - c->total) / esz) return;
    size_t n = (size_t)st->numel * esz;
    char name[600];
    snprintf(name, sizeof name, "archive/data/%.500s", st->key);
    if (zip_name_locate(c->z, name, 0) >= 0) return; /* shared storage: once */
    zip_source_t *src = zip_source_buffer(c->z, zeros, n, 0);
    if (src && zip_file_add(c->z, name, src, 0) < 0) zip_source_free(src);
    else c->total += n;
}

/* Writes the pickle data[0..len) as fz_dir/w.pt with the entries it needs. */
static int wrap_pickle(const uint8_t *data, size_t len)
{
    int err;
    zip_t *z = zip_open(fz_path("w.pt"), ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!z) abort(); /* the harness is broken, not the parser */
    zip_source_t *pkl = zip_source_buffer(z, data, len, 0), *ver = zip_source_buffer(z, "3\n", 2, 0);
    if (!pkl || zip_file_add(z, "archive/data.pkl", pkl, 0) < 0 || !ver || zip_file_add(z, "archive/version", ver, 0) < 0)
        abort();
    pk_doc *doc = NULL;
    if (pk_parse(data, len, "fuzz.pkl", &doc) == DY_OK) {
        wrap_ctx c = {z, 0};
        pkw_walk(doc, add_storage, &c);
        pk_doc_free(doc);
    }
    if (zip_close(z) < 0) abort();
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_setup();
    fz_mpi_init();
    zeros = calloc(FZ_PT_MAX_STORAGE, 1);
    if (!zeros) abort();
    /* Open MPI's MPI-IO components load at the first file write and stay: do it here. */
    LLVMFuzzerTestOneInput((const uint8_t *)"\x80\x02}q\x00.", 6);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (len >= 4 && !memcmp(data, "PK\x03\x04", 4)) fz_write("w.pt", data, len);
    else wrap_pickle(data, len);
    pt_import_opts o = {.spec_path = NULL, .out_path = fz_path("out.h5")};
    char out[256];
    snprintf(out, sizeof out, "%s", o.out_path);
    o.out_path = out;
    pt_import_report rep;
    if (pt_import(fz_path("w.pt"), &o, &rep) == DY_OK) pt_import_report_free(&rep);
    fz_end_hdf5_run("fuzz_pt", "pt_import");
    return 0;
}
