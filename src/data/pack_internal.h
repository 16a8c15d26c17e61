/* pack_internal.h -- what pack.c hands to shard_write.c: one rank's part of the
 * packed dataset (its samples in order, flat).  Not used outside src/data.
 * defines: pack_meta, pack_part, pack_part_free, pack_write */
#ifndef DY_DATA_PACK_INTERNAL_H
#define DY_DATA_PACK_INTERNAL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "data/shard.h"

typedef struct {
    int64_t pay_len, nbox, name_len;
    int32_t size[2];
    float lb[3];
    int64_t source_id;
    uint32_t crc;
} pack_meta;

typedef struct {
    size_t n, capmeta;
    pack_meta *meta;
    uint8_t *payload;
    size_t npay, cappay;
    char *names;
    size_t nnames, capnames;
    float *box;
    int32_t *cls;
    uint8_t *flags;
    size_t nbox, capbox, capcls, capflags;
    long background;
} pack_part;

void pack_part_free(pack_part *p);
void shard_file_name(const char *prefix, int k, char *out, size_t n);
dy_status pack_write(const pack_opts *o, const ds_list *l, const pack_part *p, MPI_Comm comm,
                     const pack_summary *sum);

#endif
