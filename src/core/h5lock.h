/* h5lock.h -- one process-wide lock around HDF5.  The HDF5 we link (parallel, Debian)
 * is not built thread-safe, yet two threads use it during training: the loader's I/O
 * thread reads shard payloads and an asynchronous checkpoint writer creates and
 * writes a checkpoint.  Every HDF5 call made while another thread may be in HDF5 must
 * hold this lock, including the error-stack reads that turn a failure into a message.
 *
 * Rule against deadlock: never wait for another rank while holding the lock, except
 * inside an HDF5 call that is collective over a communicator only checkpoint writers
 * use (the other holders -- loader reads -- are local and always finish).
 *
 * defines: h5lock_acquire, h5lock_release */
#ifndef DY_CORE_H5LOCK_H
#define DY_CORE_H5LOCK_H

void h5lock_acquire(void);
void h5lock_release(void);

#endif
