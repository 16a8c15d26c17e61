/* test_ckpt_toy.c -- a toy resumable MPI program: a counter loop with state that
 * changes every step (a float array, a per-rank RNG row), checkpointed with the ckpt
 * API every INTERVAL steps, stopping with exit 75 on a preemption signal and
 * resuming with ckpt_resume_auto.  It prints a final digest; the shell tests compare
 * the digest of an interrupted-and-resumed run with an uninterrupted one.
 *   test_ckpt_toy DIR NSTEPS INTERVAL [STEP_MS]
 * Each rank writes its pid to DIR/pid.RANK so tests can signal or kill one rank. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/check.h"
#include "core/crc32c.h"
#include "core/log.h"
#include "io/ckpt.h"
#include "train/signals.h"

#define NSTATE 50000

static int rank, world;
static float state[NSTATE];
static int64_t row[4];

static void step_once(int64_t step)
{
    for (int i = 0; i < NSTATE; i++) state[i] = state[i] * 0.999f + 0.001f * (float)((step * 31 + i) % 97);
    /* unsigned arithmetic: the LCG wraps by design (signed overflow would be UB) */
    for (int i = 0; i < 4; i++)
        row[i] = (int64_t)((uint64_t)row[i] * 6364136223846793005ULL + 1442695040888963407ULL + (uint64_t)step);
}

static dy_status save(const char *dir, int64_t step)
{
    char name[64];
    ckpt_name_for_step(step, name, sizeof name);
    ckpt_writer *w;
    DY_TRY(ckpt_writer_begin(&w, dir, name, MPI_COMM_WORLD));
    dy_status s = ckpt_add_array(w, "model.params", CKPT_F32, state, NSTATE);
    if (s == DY_OK) s = ckpt_add_rank_array(w, "rng.state", CKPT_I64, row, 4);
    if (s == DY_OK) s = ckpt_attr_set_int(w, "step", step);
    ckpt_writer_set_keep(w, 2);
    if (s == DY_OK) s = ckpt_commit(w);
    ckpt_writer_free(w);
    return s;
}

static dy_status resume(const char *dir, int64_t *step)
{
    ckpt_reader *r;
    *step = 0;
    DY_TRY(ckpt_resume_auto(dir, MPI_COMM_WORLD, &r));
    if (!r) return DY_OK;
    dy_status s = ckpt_get(r, "model.params", CKPT_F32, state, NSTATE);
    if (s == DY_OK) s = ckpt_get_row(r, "rng.state", CKPT_I64, rank, row, 4);
    if (s == DY_OK) s = ckpt_attr_int(r, "step", step);
    ckpt_reader_close(r);
    return s;
}

static int run(const char *dir, int64_t nsteps, int64_t interval, int step_ms)
{
    int64_t step;
    for (int i = 0; i < 4; i++) row[i] = rank * 10 + i;
    if (resume(dir, &step) != DY_OK) return log_error("%s", err_msg()), 1;
    log_info("starting at step %lld", (long long)step);
    if (signals_install("USR1,TERM") != DY_OK) return log_error("%s", err_msg()), 1;
    struct timespec ts = {0, step_ms * 1000000L};
    for (; step < nsteps; step++) {
        step_once(step);
        nanosleep(&ts, NULL);
        int sig = 0;
        if (signals_agree(MPI_COMM_WORLD, &sig) != DY_OK) return log_error("%s", err_msg()), 1;
        int last = step + 1 == nsteps;
        if (sig || last || (step + 1) % interval == 0) {
            if (save(dir, step + 1) != DY_OK) return log_error("%s", err_msg()), 1;
        }
        if (sig) {
            log_info("stopping after step %lld on SIG%s (%d signals seen)", (long long)(step + 1), signals_name(sig),
                     signals_count());
            return CLI_EXIT_REQUEUE;
        }
    }
    uint32_t c = crc32c(state, sizeof state), all = 0;
    c = crc32c_update(c, row, sizeof row);
    MPI_Allreduce(&c, &all, 1, MPI_UINT32_T, MPI_BXOR, MPI_COMM_WORLD);
    log_info("final step %lld digest %08x", (long long)step, all);
    return 0;
}

int main(int argc, char **argv)
{
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    check_h5_quiet();
    log_setup(rank, 1, LOG_INFO);
    if (argc < 4) return 2;
    char pidf[600];
    snprintf(pidf, sizeof pidf, "%s/pid.%d", argv[1], rank);
    FILE *f = fopen(pidf, "w");
    if (f) fprintf(f, "%ld\n", (long)getpid()), fclose(f);
    int rc = run(argv[1], atoll(argv[2]), atoll(argv[3]), argc > 4 ? atoi(argv[4]) : 20);
    MPI_Finalize();
    return rc;
}
