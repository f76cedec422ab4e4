/*
 * sample.cpp: taking a Sample with the walker.
 */
#include "sample.hpp"

namespace memprof {

SampleTotals
Sample::Totals() const
{
	SampleTotals t;

	for (const SampleRow &r : rows)
	{
		t.contexts++;
		t.total_bytes += r.total_bytes;
		t.free_bytes += r.free_bytes;
		t.nblocks += r.nblocks;
		t.free_chunks += r.free_chunks;
	}
	return t;
}

namespace {
Sample	   *shared_scratch = nullptr;	/* allocated once, never freed */
bool		shared_scratch_busy = false;
}

ScratchSample::ScratchSample() : sample_(nullptr), owns_shared_(false)
{
	if (!shared_scratch_busy)
	{
		if (shared_scratch == nullptr)
			shared_scratch = new Sample();
		shared_scratch_busy = true;
		owns_shared_ = true;
		sample_ = shared_scratch;
	}
	else
		sample_ = new Sample();
}

ScratchSample::~ScratchSample()
{
	if (owns_shared_)
	{
		/* keep the capacity, drop a huge one so one odd call cannot pin it */
		if (sample_->rows.capacity() > 1000000)
			*sample_ = Sample();
		shared_scratch_busy = false;
	}
	else
		delete sample_;
}

void
TakeSample(MemoryContext root, Sample &out)
{
	/* remembered across calls so that a big tree is not regrown each time */
	static size_t last_rows = 256;
	static size_t last_text = 8192;

	out.rows.clear();
	out.text.clear();
	out.rows.reserve(last_rows + last_rows / 8);
	out.text.reserve(last_text + last_text / 8);

	WalkContexts(root, [&out](const ContextVisit &v) {
		const char *name;
		const char *ident;
		SampleRow	r;
		size_t		ident_len = 0;

		DisplayNames(v.cxt, &name, &ident);
		if (ident != nullptr)
		{
			ident_len = strlen(ident);
			/*
			 * clip long idents (query texts) on a character boundary;
			 * pg_mbcliplen raises no error (it stops at an invalid
			 * byte), so it is called outside PgCall
			 */
			if (ident_len >= kIdentDisplaySize)
				ident_len = pg_mbcliplen(ident, static_cast<int>(ident_len),
										 kIdentDisplaySize - 1);
		}
		r.id = v.id;
		r.parent_id = v.parent_id;
		r.level = v.level;
		r.type = v.type;
		r.total_bytes = static_cast<int64>(v.counters.totalspace);
		r.free_bytes = static_cast<int64>(v.counters.freespace);
		r.nblocks = static_cast<int64>(v.counters.nblocks);
		r.free_chunks = static_cast<int64>(v.counters.freechunks);
		out.Add(r, name ? std::string_view(name) : std::string_view("???"),
				ident, ident_len);
		return true;
	});

	last_rows = std::max(out.rows.size(), static_cast<size_t>(256));
	last_text = std::max(out.text.size(), static_cast<size_t>(8192));
}

}								/* namespace memprof */
