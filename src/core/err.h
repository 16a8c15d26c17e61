/* err.h -- errors as values.
 *
 * Library functions return a dy_status and leave a human-readable message in a
 * thread-local buffer; only the CLI layer prints it and exits.  A message names the
 * culprit (file, key, sample, rank) and, for failed library calls, the source
 * file:line and the library's own error string (see check.h).
 *
 * defines: dy_status, DY_ERR, DY_TRY, DY_TRY_CTX, err_set, err_wrap, err_msg, err_clear,
 *          err_name
 */
#ifndef DY_CORE_ERR_H
#define DY_CORE_ERR_H

#include <stdarg.h>

typedef enum {
    DY_OK = 0,
    DY_EINVAL,       /* bad argument or configuration value */
    DY_ENOENT,       /* missing file, key or dataset */
    DY_EIO,          /* read/write failure, full disk */
    DY_ENOMEM,       /* allocation failure */
    DY_EFORMAT,      /* malformed input (JSON syntax, labels, images) */
    DY_ECORRUPT,     /* checksum mismatch, truncated file */
    DY_ERANGE,       /* value out of its allowed range */
    DY_EMPI,         /* an MPI call failed */
    DY_EHDF5,        /* an HDF5 call failed */
    DY_ECUDA,        /* a CUDA/cuDNN/cuBLAS/NCCL call failed */
    DY_ENOGPU,       /* no usable GPU */
    DY_ETIMEOUT,     /* a collective or peer did not answer in time */
    DY_EUNSUPPORTED, /* valid request this build cannot serve */
    DY_EINTERRUPTED, /* stopped by a signal (checkpointed) */
    DY_STATUS_COUNT
} dy_status;

/* Replace the current message; returns code so it can be returned directly. */
dy_status err_set(dy_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
dy_status err_vset(dy_status code, const char *fmt, va_list ap);
/* Prefix the current message with context ("loading foo.h5: <old message>"). */
dy_status err_wrap(dy_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *err_msg(void);
void err_clear(void);
const char *err_name(dy_status code);

#define DY_ERR(code, ...) err_set((code), __VA_ARGS__)

/* Propagate a failure unchanged. */
#define DY_TRY(expr)                                   \
    do {                                               \
        dy_status dy_try_s_ = (expr);                  \
        if (dy_try_s_ != DY_OK) return dy_try_s_;      \
    } while (0)

/* Propagate a failure with a context prefix. */
#define DY_TRY_CTX(expr, ...)                          \
    do {                                               \
        dy_status dy_try_s_ = (expr);                  \
        if (dy_try_s_ != DY_OK)                        \
            return err_wrap(dy_try_s_, __VA_ARGS__);   \
    } while (0)

#endif
