/* version.h -- build and library version report behind `dyolo version`.
 * defines: version_report */
#ifndef DY_CORE_VERSION_H
#define DY_CORE_VERSION_H

#include <stdio.h>

/* Writes the human-readable report; json != 0 writes one JSON object instead. */
void version_report(FILE *f, int json);

#endif
