/* h5lock.c -- the process-wide HDF5 lock (see h5lock.h): a plain mutex; holders are
 * short (one sample read, or one checkpoint dataset's metadata). */
#include "core/h5lock.h"

#include <pthread.h>

static pthread_mutex_t h5_mu = PTHREAD_MUTEX_INITIALIZER;

void h5lock_acquire(void) { pthread_mutex_lock(&h5_mu); }
void h5lock_release(void) { pthread_mutex_unlock(&h5_mu); }
