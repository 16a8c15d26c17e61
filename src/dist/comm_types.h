/* comm_types.h -- element types and reduction operators of the communication
 * interface, in a header without MPI so that the CUDA sources can share them.
 * defines: comm_dtype, comm_redop */
#ifndef DY_DIST_COMM_TYPES_H
#define DY_DIST_COMM_TYPES_H

typedef enum { COMM_F32 = 0, COMM_F16, COMM_U32, COMM_I32, COMM_U8 } comm_dtype;
typedef enum { COMM_SUM = 0, COMM_AVG, COMM_MAX } comm_redop;

#endif
