/*
 * hidden.hpp: MEMPROF_HIDDEN marks a global read on a hot path (per block,
 * per statement) as internal to memprof.so, so the code reaches it directly
 * instead of through the global offset table.  Nothing outside the library
 * refers to these.
 */
#pragma once

#define MEMPROF_HIDDEN __attribute__((visibility("hidden")))
