/* test_core.c -- unit tests of err, rng, crc32c, log and metrics. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crc32c.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/rng.h"
#include "tests/tap.h"

static dy_status inner(void) { return DY_ERR(DY_ENOENT, "file \"%s\" missing", "a.h5"); }
static dy_status outer(void)
{
    DY_TRY_CTX(inner(), "loading shard %d", 3);
    return DY_OK;
}

static void test_err(void)
{
    err_clear();
    TAP_EQ_INT(outer(), DY_ENOENT, "DY_TRY_CTX propagates the status");
    TAP_STR_HAS(err_msg(), "loading shard 3: file \"a.h5\" missing", "context is prefixed to the message");
    TAP_STR_HAS(err_name(DY_EHDF5), "HDF5", "status names");
}

static void test_crc(void)
{
    /* Standard CRC-32C check value and RFC 3720 (iSCSI) vectors. */
    TAP_EQ_INT(crc32c("123456789", 9), 0xE3069283u, "crc32c(\"123456789\") = 0xE3069283");
    unsigned char zeros[32] = {0}, ones[32];
    memset(ones, 0xFF, sizeof ones);
    TAP_EQ_INT(crc32c(zeros, 32), 0x8A9136AAu, "crc32c(32 zero bytes) (RFC 3720)");
    TAP_EQ_INT(crc32c(ones, 32), 0x62A8AB43u, "crc32c(32 0xFF bytes) (RFC 3720)");
    uint32_t part = crc32c_update(crc32c_update(0, "12345", 5), "6789", 4);
    TAP_EQ_INT(part, 0xE3069283u, "incremental crc equals one-shot");
    /* The SSE4.2 path (when the CPU has it) equals the table for every length and
     * alignment. */
    unsigned char buf[4096 + 16];
    for (int i = 0; i < (int)sizeof buf; i++) buf[i] = (unsigned char)(i * 131 + (i >> 5));
    int bad = 0;
    for (size_t off = 0; off < 9; off++)
        for (size_t len = 0; len < 300; len++)
            bad += crc32c_update(0, buf + off, len) != crc32c_update_portable(0, buf + off, len);
    TAP_EQ_INT(bad, 0, "hardware and table CRC agree for lengths 0..299 at 9 alignments");
    TAP_EQ_INT(crc32c_update(crc32c(buf, 1001), buf + 1001, 3000), crc32c_update_portable(0, buf, 4001),
               "running update across both paths");
}

static void test_rng(void)
{
    /* Philox4x32-10 known-answer tests from the Random123 distribution (kat_vectors). */
    uint32_t out[4];
    uint32_t c0[4] = {0, 0, 0, 0}, k0[2] = {0, 0};
    rng_philox(c0, k0, out);
    TAP_OK(out[0] == 0x6627e8d5u && out[1] == 0xe169c58du && out[2] == 0xbc57ac4cu && out[3] == 0x9b00dbd8u,
           "philox4x32-10 KAT (zero counter, zero key)");
    uint32_t c1[4] = {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, k1[2] = {0xffffffffu, 0xffffffffu};
    rng_philox(c1, k1, out);
    TAP_OK(out[0] == 0x408f276du && out[1] == 0x41c83b0eu && out[2] == 0xa20bc7c6u && out[3] == 0x6d5451fdu,
           "philox4x32-10 KAT (all-ones)");
    uint32_t c2[4] = {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}, k2[2] = {0xa4093822u, 0x299f31d0u};
    rng_philox(c2, k2, out);
    TAP_OK(out[0] == 0xd16cfe09u && out[1] == 0x94fdccebu && out[2] == 0x5001e420u && out[3] == 0x24126ea1u,
           "philox4x32-10 KAT (pi digits)");

    rng_stream a, b, c;
    rng_stream_init(&a, 42, 1, 3, 1000);
    rng_stream_init(&b, 42, 1, 3, 1000);
    rng_stream_init(&c, 42, 1, 3, 1001);
    int same = 1, differ = 0;
    for (int i = 0; i < 100; i++) {
        uint32_t x = rng_u32(&a), y = rng_u32(&b), z = rng_u32(&c);
        same &= x == y;
        differ += x != z;
    }
    TAP_OK(same, "same (seed, epoch, index) gives the same stream");
    TAP_OK(differ > 95, "neighbouring sample indices give different streams");
    double sum = 0, sq = 0;
    int in_range = 1;
    for (int i = 0; i < 100000; i++) {
        float u = rng_uniform(&a);
        in_range &= u >= 0.0f && u < 1.0f;
        sum += u;
        uint32_t r = rng_below(&a, 7);
        in_range &= r < 7;
        float n = rng_normal(&b);
        sq += (double)n * n;
    }
    TAP_OK(in_range, "uniform in [0,1) and below(n) in [0,n)");
    TAP_NEAR(sum / 100000, 0.5, 0.01, "uniform mean is 0.5");
    TAP_NEAR(sq / 100000, 1.0, 0.03, "normal variance is 1");
}

static void test_log(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    log_set_stream(f);
    log_setup(1, 0, LOG_INFO);
    log_info("hidden on rank 1");
    log_error("errors always show");
    log_setup(1, 1, LOG_INFO);
    log_info("all ranks visible");
    log_debug("debug hidden at info");
    log_setup(0, 0, LOG_DEBUG);
    log_debug("debug shown");
    log_progress p;
    log_progress_force_tty(0);
    log_progress_begin(&p, "epoch 1", 10, 0.1);
    log_progress_end(&p, 10, "loss 0.5");
    fflush(f);
    TAP_OK(!strstr(buf, "hidden on rank 1"), "rank 1 info is silent by default");
    TAP_STR_HAS(buf, "[r1] error errors always show", "errors print from any rank with the rank");
    TAP_STR_HAS(buf, "[r1] info  all ranks visible", "--log-all-ranks prefixes the rank");
    TAP_OK(!strstr(buf, "debug hidden"), "level filter");
    TAP_STR_HAS(buf, "debug shown", "debug level");
    TAP_STR_HAS(buf, "epoch 1 10/10 (100.0%)", "plain progress line when not a terminal");
    log_level l;
    TAP_EQ_INT(log_parse_level("WARN", &l), DY_OK, "log level parse");
    TAP_EQ_INT(log_parse_level("loud", &l), DY_EINVAL, "bad log level rejected");
    log_set_stream(NULL);
    fclose(f);
    free(buf);
}

static void test_metrics(void)
{
    char path[] = "/tmp/dyolo-metrics-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    metrics_writer *w = NULL;
    TAP_EQ_INT(metrics_open(&w, path, 0), DY_OK, "metrics_open");
    for (int i = 0; i < 3; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "step", i);
        metrics_write(w, o);
        cJSON_Delete(o);
    }
    TAP_EQ_INT(metrics_close(w), DY_OK, "metrics_close");
    FILE *f = fopen(path, "r");
    char line[256];
    int n = 0, parsed = 1;
    while (f && fgets(line, sizeof line, f)) {
        cJSON *o = cJSON_Parse(line);
        parsed &= o && cJSON_GetObjectItem(o, "time") && cJSON_GetObjectItem(o, "step")->valueint == n;
        cJSON_Delete(o);
        n++;
    }
    if (f) fclose(f);
    TAP_EQ_INT(n, 3, "one line per record");
    TAP_OK(parsed, "each line is a JSON object with step and time");
    unlink(path);
    TAP_EQ_INT(metrics_open(&w, "/nonexistent-dir/m.jsonl", 0), DY_EIO, "unwritable metrics path is an error");
    TAP_STR_HAS(err_msg(), "/nonexistent-dir/m.jsonl", "error names the path");
}

int main(void)
{
    test_err();
    test_crc();
    test_rng();
    test_log();
    test_metrics();
    return tap_done();
}
