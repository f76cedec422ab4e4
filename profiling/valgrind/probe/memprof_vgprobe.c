/*
 * memprof_vgprobe.c: planted errors for profiling/valgrind.sh --plant-errors,
 * the negative control that shows the valgrind run can fail.
 *
 * Compiled by valgrind.sh into its output directory (never installed),
 * loaded with CREATE FUNCTION ... AS '<that path>'.  Its name contains
 * "memprof", so valgrind.sh counts these errors as ours and must FAIL:
 *
 *   memprof_vgprobe_leak(n)   mallocs n bytes and drops the pointer
 *                             (definitely lost when the backend exits)
 *   memprof_vgprobe_overread() reads one byte past a 16-byte malloc block
 *                             (Invalid read of size 1)
 *   memprof_vgprobe_uninit()  branches on malloc'd, never written memory
 *                             (Conditional jump ... uninitialised value)
 *
 * Harmless without valgrind: the over-read stays inside malloc's rounding.
 */
#include "postgres.h"
#include "fmgr.h"

#include <stdlib.h>
#include <string.h>

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(memprof_vgprobe_leak);
PG_FUNCTION_INFO_V1(memprof_vgprobe_overread);
PG_FUNCTION_INFO_V1(memprof_vgprobe_uninit);

/* a sink the compiler cannot see through */
volatile int memprof_vgprobe_sink;

Datum
memprof_vgprobe_leak(PG_FUNCTION_ARGS)
{
	int32		n = PG_GETARG_INT32(0);
	char	   *p = malloc(n > 0 ? n : 1);

	if (p != NULL)
		memset(p, 0x5a, n > 0 ? n : 1);
	memprof_vgprobe_sink = (p != NULL);
	/* p is dropped here: a malloc-level leak */
	PG_RETURN_INT32(n);
}

Datum
memprof_vgprobe_overread(PG_FUNCTION_ARGS)
{
	volatile char *p = malloc(16);
	int			v;

	if (p == NULL)
		PG_RETURN_INT32(0);
	memset((char *) p, 1, 16);
	v = p[16];					/* one byte past the block */
	free((char *) p);
	memprof_vgprobe_sink = v;
	PG_RETURN_INT32(1);
}

Datum
memprof_vgprobe_uninit(PG_FUNCTION_ARGS)
{
	int		   *p = malloc(4 * sizeof(int));
	int			r = 0;

	if (p == NULL)
		PG_RETURN_INT32(0);
	if (p[2] > 0)				/* never written */
		r = 1;
	memprof_vgprobe_sink = r;
	free(p);
	PG_RETURN_INT32(r);
}
