/*
 * sample.hpp: a sample of a memory-context tree, the one thing every
 * consumer (own-backend view, snapshots, leak check, remote fetch, backend
 * summary) works from.  A Sample lives in malloc memory (std::vector), so
 * taking one does not change the tree it describes.
 */
#pragma once

#include "walker.hpp"

#include <string_view>

namespace memprof {

/* Longest ident kept, as core's pg_backend_memory_contexts. */
constexpr size_t kIdentDisplaySize = 1024;

struct SampleRow
{
	int32		id;
	int32		parent_id;		/* 0: root */
	int32		level;
	ContextType type;
	uint32		name_off;
	uint32		name_len;
	uint32		ident_off;
	int32		ident_len;		/* -1: no ident */
	int64		total_bytes;
	int64		free_bytes;
	int64		nblocks;
	int64		free_chunks;

	int64		used_bytes() const { return total_bytes - free_bytes; }
};

struct SampleTotals
{
	int64		contexts = 0;
	int64		total_bytes = 0;
	int64		free_bytes = 0;
	int64		nblocks = 0;
	int64		free_chunks = 0;
};

/*
 * Bytes appended back to back: an append is a bounds check and a memcpy
 * (the buffer grows, by doubling, only past its capacity).
 */
class TextBuffer
{
public:
	const char *data() const { return buf_.data(); }
	size_t		size() const { return len_; }
	void		clear() { len_ = 0; }
	void		reserve(size_t n)
	{
		if (buf_.size() < n)
			buf_.resize(n);
	}
	void		Append(const char *p, size_t n)
	{
		if (len_ + n > buf_.size())
			buf_.resize(std::max(2 * buf_.size(), len_ + n));
		if (n > 0)
			memcpy(buf_.data() + len_, p, n);
		len_ += n;
	}

private:
	std::vector<char> buf_;
	size_t		len_ = 0;
};

class Sample
{
public:
	std::vector<SampleRow> rows;	/* pre-order; rows[i].id == i + 1 */
	TextBuffer	text;			/* names and idents, back to back */

	std::string_view Name(const SampleRow &r) const
	{
		return std::string_view(text.data() + r.name_off, r.name_len);
	}
	bool HasIdent(const SampleRow &r) const { return r.ident_len >= 0; }
	std::string_view Ident(const SampleRow &r) const
	{
		return r.ident_len < 0 ? std::string_view()
			: std::string_view(text.data() + r.ident_off, r.ident_len);
	}
	const SampleRow *Parent(const SampleRow &r) const
	{
		return r.parent_id > 0 ? &rows[r.parent_id - 1] : nullptr;
	}
	SampleTotals Totals() const;

	/* Adds a row; used by the walker visitor and by decoders. */
	void Add(const SampleRow &proto, std::string_view name,
			 const char *ident, size_t ident_len)
	{
		SampleRow	r = proto;

		r.name_off = static_cast<uint32>(text.size());
		r.name_len = static_cast<uint32>(name.size());
		text.Append(name.data(), name.size());
		if (ident != nullptr)
		{
			r.ident_off = static_cast<uint32>(text.size());
			r.ident_len = static_cast<int32>(ident_len);
			text.Append(ident, ident_len);
		}
		else
		{
			r.ident_off = 0;
			r.ident_len = -1;
		}
		rows.push_back(r);
	}
};

/*
 * A Sample reused across calls in this process, so that reading a big tree
 * again does not malloc (and page-fault in) fresh buffers each time.  If
 * the process-wide one is in use (a nested call, or an interrupt that
 * samples while a view is being emitted), a private one is used instead.
 */
class ScratchSample
{
public:
	ScratchSample();
	~ScratchSample();
	ScratchSample(const ScratchSample &) = delete;
	ScratchSample &operator=(const ScratchSample &) = delete;
	Sample &get() { return *sample_; }

private:
	Sample	   *sample_;
	bool		owns_shared_;
};

/* Samples the tree under root (normally TopMemoryContext). */
void		TakeSample(MemoryContext root, Sample &out);

}								/* namespace memprof */
