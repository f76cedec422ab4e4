/*
 * alloc/intercept.cpp: counting every block the server takes from the C
 * allocator, by rewriting the server executable's GOT entries for malloc,
 * calloc, realloc, free and strdup.
 *
 * Why here.  Every memory context (AllocSet, Generation, Slab, Bump) takes
 * its blocks with malloc/realloc and returns them with free, from code in
 * the server executable.  Counting those calls sees every context, however
 * briefly it lives, on every PostgreSQL version, at a cost paid per block,
 * not per chunk.  Method-table wrapping cannot: from PostgreSQL 16 pfree and
 * repalloc dispatch on the chunk header, not on context->methods.
 *
 * How.  At preload, in the postmaster, the executable's dynamic relocations
 * (JUMP_SLOT and GLOB_DAT) are searched for those five symbols and their GOT
 * slots are pointed at the wrappers below; every child process inherits the
 * rewritten slots through fork.  The function a wrapper calls is the one the
 * slot would have reached: dlsym(RTLD_DEFAULT, name) (the C library's, or an
 * LD_PRELOADed allocator such as heaptrack's) when the slot still points at
 * it or into the executable's own PLT (lazy binding: the resolver stub);
 * otherwise another tool already rewrote the slot, and memprof chains to
 * what it found there.  A slot inside PT_GNU_RELRO (BIND_NOW builds) is made
 * writable for the write and read-only again; outside it (lazy binding) the
 * page stays as the dynamic linker needs it.
 *
 * Limits, stated where users read them too (docs/allocator.md):
 * - Only the executable's own calls are seen.  Libraries that allocate with
 *   malloc themselves (libxml2, ICU, LLVM, OpenSSL) are not counted; their
 *   memory is not in any memory context either.
 * - Sizes are the block's real size, as malloc_usable_size() gives it: a
 *   few bytes more than requested.  When every function the wrappers call
 *   is glibc's own (checked at install: not an LD_PRELOADed allocator, not
 *   a valgrind tool that replaces malloc) the size is read from glibc's
 *   chunk header inline, the same figure without a call per block; a
 *   self-test against malloc_usable_size() decides, at install.  A block the executable frees but did not allocate
 *   through the wrappers (allocated before preload, or by a library) is
 *   subtracted too; figures can drift low by that much (kilobytes).
 * - A server linked statically, built with -fno-plt and no GLOB_DAT entry,
 *   or on an architecture whose relocation types are not known here, cannot
 *   be intercepted: the state says "failed" with the reason, in the log and
 *   in memprof_allocator, and everything else keeps working.
 * - Failure is closed: nothing is written until every slot was found and its
 *   target resolved.
 */
#include "alloc/counters.hpp"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

namespace memprof {

namespace {

LiveAlloc	dummy_live;

}								/* namespace */

AllocCounters alloc = {0, 0, 0, 0, INT64_MAX, 0, 0, &dummy_live, 0, INT64_MIN};
InterceptState intercept_state = InterceptState::NotLoaded;
RefuseFn	refuse_hook = nullptr;
ReleaseFn	release_hook = nullptr;

namespace {

using MallocFn = void *(*) (size_t);
using CallocFn = void *(*) (size_t, size_t);
using ReallocFn = void *(*) (void *, size_t);
using FreeFn = void (*)(void *);
using StrdupFn = char *(*) (const char *);

MallocFn	real_malloc;
CallocFn	real_calloc;
ReallocFn	real_realloc;
FreeFn		real_free;
StrdupFn	real_strdup;

char		reason[256] = "";
char		symbols[128] = "";

/*---- the hot path ----*/

/*
 * The wrappers run at every block: no frame pointer for them (the rest of
 * memprof keeps its frame pointers for profilers' stack walks; a wrapper is
 * a leaf between the server and the C library), and hidden, reached only
 * through the GOT slots memprof writes.
 */
#if defined(__GNUC__) && !defined(__clang__)
#define MEMPROF_WRAPPER __attribute__((optimize("omit-frame-pointer"), visibility("hidden")))
#else
#define MEMPROF_WRAPPER __attribute__((visibility("hidden")))
#endif

/*
 * Whether blocks are glibc chunks whose size word (the word before the
 * block: chunk size, low three bits flags, bit 1 set for an mmapped chunk)
 * may be read directly.  Set once, at install, before any wrapper runs.
 */
bool		glibc_chunks = false;

inline size_t
BlockSize(void *p)
{
#if defined(__x86_64__)
	if (__builtin_expect(glibc_chunks, 1))
	{
		size_t		word = static_cast<const size_t *>(p)[-1];

		/*
		 * The chunk's size less its header word; an mmapped chunk (bit 1)
		 * also lacks the next chunk's first word, which an in-use chunk may
		 * use: less another 8 bytes.
		 */
		static_assert(sizeof(size_t) == 8, "x86-64 glibc chunk layout");
		return (word & ~static_cast<size_t>(7)) - 8 - ((word & 2) << 2);
	}
#endif
	return malloc_usable_size(p);
}

inline bool
Admit(size_t n)
{
	int64_t		room = alloc.limit_at - alloc.held;

	if (__builtin_expect(room >= 0 && n <= static_cast<uint64_t>(room), 1))
		return true;
	return refuse_hook == nullptr || !refuse_hook(static_cast<int64_t>(n > INT64_MAX ? INT64_MAX : n));
}

inline void
Add(size_t n)
{
	int64_t		h = alloc.held + static_cast<int64_t>(n);

	alloc.held = h;
	if (h - alloc.low > alloc.rise)
		alloc.rise = h - alloc.low;
	if (h > alloc.peak)
	{
		alloc.peak = h;
		alloc.live->peak = h;
	}
	alloc.live->held = h;
}

inline void
Sub(size_t n)
{
	int64_t		h = alloc.held - static_cast<int64_t>(n);

	alloc.held = h;
	if (h < alloc.low)
	{
		alloc.low = h;
		if (alloc.stmt_limit > 0)
			UpdateLimit();
	}
	alloc.live->held = h;
	if (__builtin_expect(h < alloc.release_at, 0) && release_hook != nullptr)
		release_hook();
}

extern "C" MEMPROF_WRAPPER void *
memprof_malloc(size_t n)
{
	if (!Admit(n))
	{
		errno = ENOMEM;
		return nullptr;
	}
	void	   *p = real_malloc(n);

	if (p != nullptr)
		Add(BlockSize(p));
	return p;
}

extern "C" MEMPROF_WRAPPER void *
memprof_calloc(size_t n, size_t m)
{
	size_t		total;

	if (!__builtin_mul_overflow(n, m, &total) && !Admit(total))
	{
		errno = ENOMEM;
		return nullptr;
	}
	void	   *p = real_calloc(n, m);

	if (p != nullptr)
		Add(BlockSize(p));
	return p;
}

extern "C" MEMPROF_WRAPPER void *
memprof_realloc(void *old, size_t n)
{
	size_t		before = old != nullptr ? BlockSize(old) : 0;

	if (n > before && !Admit(n - before))
	{
		errno = ENOMEM;
		return nullptr;
	}
	void	   *p = real_realloc(old, n);

	if (p != nullptr)
	{
		size_t		after = BlockSize(p);

		if (after >= before)
			Add(after - before);
		else
			Sub(before - after);
	}
	else if (n == 0 && old != nullptr)
		Sub(before);			/* realloc(p, 0) freed p */
	return p;
}

extern "C" MEMPROF_WRAPPER void
memprof_free(void *p)
{
	if (p == nullptr)
		return;
	size_t		n = BlockSize(p);

	real_free(p);
	Sub(n);
}

extern "C" MEMPROF_WRAPPER char *
memprof_strdup(const char *s)
{
	char	   *p = real_strdup(s);

	if (p != nullptr)
		Add(BlockSize(p));
	return p;
}

/*---- finding and rewriting the GOT slots ----*/

struct Target
{
	const char *name;
	void	   *wrapper;
	void	  **real;			/* where the function to chain to goes */
	void	   *next;			/* resolved: what the wrapper will call */
	int			slots;			/* slots found */
};

Target		targets[] = {
	{"malloc", reinterpret_cast<void *>(memprof_malloc), reinterpret_cast<void **>(&real_malloc), nullptr, 0},
	{"calloc", reinterpret_cast<void *>(memprof_calloc), reinterpret_cast<void **>(&real_calloc), nullptr, 0},
	{"realloc", reinterpret_cast<void *>(memprof_realloc), reinterpret_cast<void **>(&real_realloc), nullptr, 0},
	{"free", reinterpret_cast<void *>(memprof_free), reinterpret_cast<void **>(&real_free), nullptr, 0},
	{"strdup", reinterpret_cast<void *>(memprof_strdup), reinterpret_cast<void **>(&real_strdup), nullptr, 0},
};
constexpr int kTargets = sizeof(targets) / sizeof(targets[0]);
/* malloc, realloc and free must be found; calloc and strdup may be unused */
constexpr int kRequired[] = {0, 2, 3};

#if defined(__x86_64__)
constexpr uint32_t kJumpSlot = R_X86_64_JUMP_SLOT;
constexpr uint32_t kGlobDat = R_X86_64_GLOB_DAT;
#elif defined(__aarch64__)
constexpr uint32_t kJumpSlot = R_AARCH64_JUMP_SLOT;
constexpr uint32_t kGlobDat = R_AARCH64_GLOB_DAT;
#else
#define MEMPROF_NO_GOT_INTERCEPTION 1
#endif

struct Slot
{
	void	  **addr;
	int			target;
};

struct Executable
{
	ElfW(Addr)	bias = 0;
	const ElfW(Phdr) *phdr = nullptr;
	int			phnum = 0;
	bool		found = false;
};

int
FindExecutable(struct dl_phdr_info *info, size_t, void *data)
{
	/* the first object dl_iterate_phdr reports is the main program */
	auto	   *exe = static_cast<Executable *>(data);

	exe->bias = info->dlpi_addr;
	exe->phdr = info->dlpi_phdr;
	exe->phnum = info->dlpi_phnum;
	exe->found = true;
	return 1;
}

bool
InExecutable(const Executable &exe, uintptr_t a)
{
	for (int i = 0; i < exe.phnum; i++)
	{
		const ElfW(Phdr) &ph = exe.phdr[i];

		if (ph.p_type == PT_LOAD && a >= exe.bias + ph.p_vaddr &&
			a < exe.bias + ph.p_vaddr + ph.p_memsz)
			return true;
	}
	return false;
}

void
Fail(const char *fmt, const char *arg = "")
{
	intercept_state = InterceptState::Failed;
	snprintf(reason, sizeof(reason), fmt, arg);
}

#ifndef MEMPROF_NO_GOT_INTERCEPTION

/* Whether a shared object's file name is glibc's C library. */
bool
InLibc(void *fn)
{
	Dl_info		info;

	if (fn == nullptr || dladdr(fn, &info) == 0 || info.dli_fname == nullptr)
		return false;
	const char *base = strrchr(info.dli_fname, '/');

	base = base != nullptr ? base + 1 : info.dli_fname;
	return strncmp(base, "libc.so", 7) == 0;
}

/*
 * Whether BlockSize may read glibc's chunk headers: every function the
 * wrappers chain to and malloc_usable_size are the C library's, no valgrind
 * tool that replaces malloc is preloaded (its redirections are invisible to
 * dlsym), and the header gives malloc_usable_size()'s figure for small,
 * large and mmapped blocks.
 */
bool
GlibcChunks()
{
#if defined(__x86_64__) && defined(__GLIBC__)
	for (int t = 0; t < kTargets; t++)
		if (targets[t].next != nullptr && !InLibc(targets[t].next))
			return false;
	if (!InLibc(dlsym(RTLD_DEFAULT, "malloc_usable_size")))
		return false;

	const char *preload = getenv("LD_PRELOAD");

	for (const char *p = preload; p != nullptr && (p = strstr(p, "vgpreload_")) != nullptr; p++)
		if (strncmp(p, "vgpreload_core", 14) != 0)
			return false;

	static const size_t sizes[] = {1, 24, 100, 1000, 8192, 70000, 300000, 4u << 20};

	for (size_t n : sizes)
	{
		void	   *p = real_malloc(n);

		if (p == nullptr)
			return false;
		bool		same = false;

		glibc_chunks = true;
		same = BlockSize(p) == malloc_usable_size(p);
		glibc_chunks = false;
		real_free(p);
		if (!same)
			return false;
	}
	return true;
#else
	return false;
#endif
}

/* Writes value into a GOT slot, opening a read-only page for the write. */
bool
WriteSlot(void **slot, void *value, uintptr_t relro_start, uintptr_t relro_end)
{
	uintptr_t	a = reinterpret_cast<uintptr_t>(slot);

	if (a >= relro_start && a < relro_end)
	{
		long		page = sysconf(_SC_PAGESIZE);
		uintptr_t	start = a & ~static_cast<uintptr_t>(page - 1);

		if (mprotect(reinterpret_cast<void *>(start), static_cast<size_t>(page),
					 PROT_READ | PROT_WRITE) != 0)
			return false;
		__atomic_store_n(slot, value, __ATOMIC_RELEASE);
		mprotect(reinterpret_cast<void *>(start), static_cast<size_t>(page), PROT_READ);
		return true;
	}
	__atomic_store_n(slot, value, __ATOMIC_RELEASE);
	return true;
}

void
Install()
{
	Executable	exe;

	dl_iterate_phdr(FindExecutable, &exe);
	if (!exe.found)
		return Fail("the server executable was not found by dl_iterate_phdr");

	const ElfW(Dyn) *dyn = nullptr;
	uintptr_t	relro_start = 0,
				relro_end = 0;

	for (int i = 0; i < exe.phnum; i++)
	{
		const ElfW(Phdr) &ph = exe.phdr[i];

		if (ph.p_type == PT_DYNAMIC)
			dyn = reinterpret_cast<const ElfW(Dyn) *>(exe.bias + ph.p_vaddr);
		else if (ph.p_type == PT_GNU_RELRO)
		{
			relro_start = exe.bias + ph.p_vaddr;
			relro_end = relro_start + ph.p_memsz;
		}
	}
	if (dyn == nullptr)
		return Fail("the server executable has no dynamic section (statically linked)");

	/* the dynamic linker may or may not have relocated these pointers */
	auto		ptr = [&exe](ElfW(Addr) v) -> uintptr_t {
		return v < exe.bias ? exe.bias + v : v;
	};
	const ElfW(Sym) *symtab = nullptr;
	const char *strtab = nullptr;
	const ElfW(Rela) *jmprel = nullptr,
			   *rela = nullptr;
	size_t		jmprel_size = 0,
				rela_size = 0;
	bool		plt_is_rela = true;

	for (const ElfW(Dyn) *d = dyn; d->d_tag != DT_NULL; d++)
	{
		switch (d->d_tag)
		{
			case DT_SYMTAB:
				symtab = reinterpret_cast<const ElfW(Sym) *>(ptr(d->d_un.d_ptr));
				break;
			case DT_STRTAB:
				strtab = reinterpret_cast<const char *>(ptr(d->d_un.d_ptr));
				break;
			case DT_JMPREL:
				jmprel = reinterpret_cast<const ElfW(Rela) *>(ptr(d->d_un.d_ptr));
				break;
			case DT_PLTRELSZ:
				jmprel_size = d->d_un.d_val;
				break;
			case DT_PLTREL:
				plt_is_rela = (d->d_un.d_val == DT_RELA);
				break;
			case DT_RELA:
				rela = reinterpret_cast<const ElfW(Rela) *>(ptr(d->d_un.d_ptr));
				break;
			case DT_RELASZ:
				rela_size = d->d_un.d_val;
				break;
			default:
				break;
		}
	}
	if (symtab == nullptr || strtab == nullptr)
		return Fail("the server executable has no dynamic symbol table");
	if (!plt_is_rela)
		return Fail("the server executable uses REL relocations, which are not supported");

	Slot		slots[32];
	int			nslots = 0;
	auto		scan = [&](const ElfW(Rela) *r, size_t bytes) {
		if (r == nullptr)
			return;
		for (size_t k = 0; k < bytes / sizeof(ElfW(Rela)); k++)
		{
			uint32_t	type = ELF64_R_TYPE(r[k].r_info);
			uint32_t	sym = ELF64_R_SYM(r[k].r_info);

			if ((type != kJumpSlot && type != kGlobDat) || sym == 0)
				continue;
			const char *name = strtab + symtab[sym].st_name;

			for (int t = 0; t < kTargets; t++)
			{
				if (strcmp(name, targets[t].name) != 0 || nslots >= 32)
					continue;
				slots[nslots].addr = reinterpret_cast<void **>(exe.bias + r[k].r_offset);
				slots[nslots].target = t;
				nslots++;
				targets[t].slots++;
			}
		}
	};

	scan(jmprel, jmprel_size);
	scan(rela, rela_size);
	for (int t : kRequired)
		if (targets[t].slots == 0)
			return Fail("no GOT entry for %s in the server executable (built without a PLT, or statically linked)",
						targets[t].name);

	/* what each wrapper calls: resolve everything before writing anything */
	for (int i = 0; i < nslots; i++)
	{
		Target	   &t = targets[slots[i].target];
		void	   *current = __atomic_load_n(slots[i].addr, __ATOMIC_ACQUIRE);
		void	   *def = dlsym(RTLD_DEFAULT, t.name);
		void	   *next;

		if (current == t.wrapper)
			return Fail("the GOT entry for %s is already memprof's", t.name);
		if (current == nullptr || current == def ||
			InExecutable(exe, reinterpret_cast<uintptr_t>(current)))
			next = def;			/* bound to the allocator, or still lazy */
		else
			next = current;		/* another tool rewrote it: chain to that */
		if (next == nullptr)
			return Fail("%s could not be resolved", t.name);
		if (t.next != nullptr && t.next != next)
			return Fail("the GOT entries for %s lead to different functions", t.name);
		t.next = next;
	}
	for (int t = 0; t < kTargets; t++)
		if (targets[t].next != nullptr)
			*targets[t].real = targets[t].next;
	glibc_chunks = GlibcChunks();
	/* counting starts at zero: the postmaster's earlier blocks are not known */
	for (int i = 0; i < nslots; i++)
	{
		Target	   &t = targets[slots[i].target];

		if (!WriteSlot(slots[i].addr, t.wrapper, relro_start, relro_end))
		{
			/* undo what was written, so that no slot is half-switched */
			for (int j = 0; j < i; j++)
				WriteSlot(slots[j].addr, targets[slots[j].target].next, relro_start, relro_end);
			return Fail("mprotect refused to open the GOT page (%s)", strerror(errno));
		}
	}
	size_t		off = 0;

	for (int t = 0; t < kTargets; t++)
		if (targets[t].slots > 0 && off < sizeof(symbols))
			off += snprintf(symbols + off, sizeof(symbols) - off, "%s%s", off ? " " : "",
							targets[t].name);
	intercept_state = InterceptState::Active;
}
#endif

}								/* namespace */

void
InstallInterception(bool enabled)
{
	if (intercept_state == InterceptState::Active)
		return;
	if (!enabled)
	{
		intercept_state = InterceptState::Off;
		snprintf(reason, sizeof(reason), "memprof.intercept_allocator is off");
		return;
	}
#ifdef MEMPROF_NO_GOT_INTERCEPTION
	Fail("allocator interception is not implemented for this CPU architecture");
#else
	Install();
#endif
}

const char *
InterceptReason()
{
	return reason;
}

const char *
InterceptedSymbols()
{
	return symbols;
}

}								/* namespace memprof */
