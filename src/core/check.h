/* check.h -- checked-call macros for libc, MPI and HDF5.
 *
 * Each macro evaluates a library call once; on failure it records
 * "file:line: CALL failed: <library message>" with err_set and returns the status
 * from the enclosing function (which must return dy_status).  CUDA, cuDNN, cuBLAS
 * and NCCL have the same macros in cuda/cuda_check.h.
 *
 * MPI calls only return errors if the communicator's handler is MPI_ERRORS_RETURN;
 * dist_init installs it on MPI_COMM_WORLD.  HDF5's automatic error printing is
 * turned off by check_h5_quiet() so that the message reaches the user once, here.
 *
 * defines: SYS_CHECK, SYS_CHECK_PTR, MPI_CHECK, H5_CHECK, H5_CHECK_ID,
 *          check_h5_quiet, check_h5_message, check_mpi_message
 */
#ifndef DY_CORE_CHECK_H
#define DY_CORE_CHECK_H

#include <errno.h>
#include <string.h>

#include <hdf5.h>
#include <mpi.h>

#include "core/err.h"

/* Last HDF5 error stack flattened to one line (innermost major/minor and text). */
void check_h5_message(char *buf, size_t len);
/* Disable HDF5's default stderr error printing (we report through err_msg). */
void check_h5_quiet(void);
void check_mpi_message(int rc, char *buf, size_t len);

/* libc: cond false -> error with strerror(errno); WHAT names the culprit (path...). */
#define SYS_CHECK(cond, code, ...)                                               \
    do {                                                                         \
        if (!(cond)) {                                                           \
            int sys_e_ = errno;                                                  \
            char sys_w_[1024];                                                   \
            snprintf(sys_w_, sizeof sys_w_, __VA_ARGS__);                        \
            return err_set((code), "%s: %s [%s:%d]", sys_w_, strerror(sys_e_),   \
                           __FILE__, __LINE__);                                  \
        }                                                                        \
    } while (0)

#define MPI_CHECK(call)                                                          \
    do {                                                                         \
        int mpi_rc_ = (call);                                                    \
        if (mpi_rc_ != MPI_SUCCESS) {                                            \
            char mpi_m_[MPI_MAX_ERROR_STRING + 1];                               \
            check_mpi_message(mpi_rc_, mpi_m_, sizeof mpi_m_);                   \
            return err_set(DY_EMPI, "%s:%d: %s failed: %s", __FILE__, __LINE__,  \
                           #call, mpi_m_);                                       \
        }                                                                        \
    } while (0)

/* For herr_t-returning calls (negative means failure). */
#define H5_CHECK(call, ...)                                                      \
    do {                                                                         \
        if ((call) < 0) {                                                        \
            char h5_m_[1024], h5_w_[1024];                                       \
            check_h5_message(h5_m_, sizeof h5_m_);                               \
            snprintf(h5_w_, sizeof h5_w_, __VA_ARGS__);                          \
            return err_set(DY_EHDF5, "%s: %s [%s:%d %s]", h5_w_, h5_m_,          \
                           __FILE__, __LINE__, #call);                           \
        }                                                                        \
    } while (0)

/* For hid_t-returning calls: assigns to VAR and fails on a negative id. */
#define H5_CHECK_ID(var, call, ...)                                              \
    do {                                                                         \
        (var) = (call);                                                          \
        H5_CHECK((var), __VA_ARGS__);                                            \
    } while (0)

#endif
