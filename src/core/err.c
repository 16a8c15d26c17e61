/* err.c -- the thread-local error message behind err.h.
 * Thread-local so loader threads can fail independently of the main thread. */
#include "core/err.h"

#include <stdio.h>
#include <string.h>

#define ERR_MSG_MAX 4096

static _Thread_local char err_buf[ERR_MSG_MAX];

static const char *const err_names[DY_STATUS_COUNT] = {
    [DY_OK] = "ok",
    [DY_EINVAL] = "invalid argument",
    [DY_ENOENT] = "not found",
    [DY_EIO] = "I/O error",
    [DY_ENOMEM] = "out of memory",
    [DY_EFORMAT] = "malformed input",
    [DY_ECORRUPT] = "corrupt data",
    [DY_ERANGE] = "out of range",
    [DY_EMPI] = "MPI error",
    [DY_EHDF5] = "HDF5 error",
    [DY_ECUDA] = "CUDA error",
    [DY_ENOGPU] = "no usable GPU",
    [DY_ETIMEOUT] = "timeout",
    [DY_EUNSUPPORTED] = "unsupported",
    [DY_EINTERRUPTED] = "interrupted",
};

const char *err_name(dy_status code)
{
    if ((int)code < 0 || code >= DY_STATUS_COUNT) return "unknown error";
    return err_names[code];
}

dy_status err_vset(dy_status code, const char *fmt, va_list ap)
{
    vsnprintf(err_buf, sizeof err_buf, fmt, ap);
    return code;
}

dy_status err_set(dy_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(code, fmt, ap);
    va_end(ap);
    return code;
}

/* Concatenate parts into err_buf, truncating (the start of a message matters most). */
static void err_join(const char *a, const char *b)
{
    char out[ERR_MSG_MAX];
    size_t la = strlen(a), lb = strlen(b);
    if (la > ERR_MSG_MAX - 3) la = ERR_MSG_MAX - 3;
    if (lb > ERR_MSG_MAX - 3 - la) lb = ERR_MSG_MAX - 3 - la;
    memcpy(out, a, la);
    memcpy(out + la, ": ", 2);
    memcpy(out + la + 2, b, lb);
    out[la + 2 + lb] = '\0';
    memcpy(err_buf, out, la + 3 + lb);
}

dy_status err_wrap(dy_status code, const char *fmt, ...)
{
    char prefix[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    err_join(prefix, err_buf[0] ? err_buf : err_name(code));
    return code;
}

const char *err_msg(void)
{
    return err_buf[0] ? err_buf : "no error message recorded";
}

void err_clear(void) { err_buf[0] = '\0'; }
