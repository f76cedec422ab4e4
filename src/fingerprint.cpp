/*
 * fingerprint.cpp: see fingerprint.hpp.  One scanner serves both the
 * fingerprint and the normalized text: it reports verbatim bytes, single
 * spaces for white space and comments, and one event per constant.
 */
#include "fingerprint.hpp"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace memprof {

namespace {

/* Bytes that continue an identifier: letters, digits, _, $ and non-ASCII. */
struct IdentTable
{
	bool		c[256];

	constexpr IdentTable() : c()
	{
		for (int i = 0; i < 256; i++)
			c[i] = (i >= 'a' && i <= 'z') || (i >= 'A' && i <= 'Z') || (i >= '0' && i <= '9') ||
				i == '_' || i == '$' || i >= 0x80;
	}
};

constexpr IdentTable kIdent;

inline bool
IsIdent(unsigned char c)
{
	return kIdent.c[c];
}

inline bool
IsDigit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

enum CharClass : unsigned char
{
	kPunct = 0,					/* passed through, not part of a word */
	kWord = 1,					/* letters, _, $ inside words, non-ASCII */
	kDigit = 2,
	kSpecial = 3,				/* white space, quotes, $, -, /, . */
};

struct ClassTable
{
	unsigned char c[256];

	constexpr ClassTable() : c()
	{
		for (int i = 0; i < 256; i++)
		{
			unsigned char k = kPunct;

			if ((i >= 'a' && i <= 'z') || (i >= 'A' && i <= 'Z') || i == '_' || i >= 0x80)
				k = kWord;
			else if (i >= '0' && i <= '9')
				k = kDigit;
			else if (i == '\'' || i == '"' || i == '$' || i == '-' || i == '/' || i == '.')
				k = kSpecial;
			c[i] = k;
		}
	}
};

constexpr ClassTable kClass;

/* Bytes a number may hold after its first digit: digits, . _ hex digits, x o. */
struct NumberTable
{
	bool		c[256];

	constexpr NumberTable() : c()
	{
		for (int i = 0; i < 256; i++)
			c[i] = (i >= '0' && i <= '9') || i == '.' || i == '_' || (i >= 'a' && i <= 'f') ||
				(i >= 'A' && i <= 'F') || i == 'x' || i == 'X' || i == 'o' || i == 'O';
	}
};

constexpr NumberTable kNumber;

/*
 * The first byte at or after j that is a digit or kSpecial (len if none).
 * Sixteen bytes at a time where SSE2 is there; both paths stop at exactly
 * the same bytes, so a text is cut into the same runs whichever finds them.
 */
inline __attribute__((always_inline)) size_t
NextSpecial(const unsigned char *s, size_t j, size_t len)
{
#if defined(__SSE2__)
	/* - . / and the digits are one range, 0x2D to 0x39; then ' " $ */
	const __m128i lo = _mm_set1_epi8('-');
	const __m128i span = _mm_set1_epi8('9' - '-');
	const __m128i q1 = _mm_set1_epi8('\'');
	const __m128i q2 = _mm_set1_epi8('"');
	const __m128i dl = _mm_set1_epi8('$');
	auto		mask = [&](__m128i v) {
		__m128i		d = _mm_sub_epi8(v, lo);
		__m128i		m = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(d, span), d),
									 _mm_or_si128(_mm_cmpeq_epi8(v, q1),
												  _mm_or_si128(_mm_cmpeq_epi8(v, q2),
															   _mm_cmpeq_epi8(v, dl))));

		return static_cast<unsigned>(_mm_movemask_epi8(m));
	};

	while (j + 16 <= len)
	{
		unsigned	bits = mask(_mm_loadu_si128(reinterpret_cast<const __m128i *>(s + j)));

		if (bits != 0)
			return j + static_cast<size_t>(__builtin_ctz(bits));
		j += 16;
	}
	if (j < len && len >= 16)
	{
		/* the last bytes: the text's final sixteen, the ones before j masked off */
		unsigned	bits = mask(_mm_loadu_si128(reinterpret_cast<const __m128i *>(s + len - 16)));

		bits >>= 16 - (len - j);
		return bits != 0 ? j + static_cast<size_t>(__builtin_ctz(bits)) : len;
	}
#endif
	while (j < len && kClass.c[s[j]] < kDigit)
		j++;
	return j;
}

/*
 * Scan(text, len, out): out.Byte(c) for a verbatim byte, out.Space() for a
 * run of white space or comments, out.Constant(p, n) for a constant,
 * out.Param(n) after a parameter $n was passed through verbatim.  Words and
 * punctuation take the fast path: one table lookup a byte.
 */
template <typename Out>
void
Scan(const char *text, size_t len, Out &out)
{
	const unsigned char *s = reinterpret_cast<const unsigned char *>(text);
	size_t		i = 0;
	unsigned char prev = ' ';	/* last input byte outside literals */

	while (i < len)
	{
		unsigned char c = s[i];
		unsigned char k = kClass.c[c];
		size_t		i0 = i;			/* where this token starts */

		if (k == kWord || k == kPunct || (k == kDigit && IsIdent(prev)))
		{
			/* a run of words and punctuation: handed over in one piece */
			size_t		j = NextSpecial(s, i + 1, len);

			/* digits right after a word belong to it (t1, x2y) */
			while (j < len && kClass.c[s[j]] == kDigit && IsIdent(s[j - 1]))
				j = NextSpecial(s, j + 1, len);
			out.Run(s + i, j - i);
			prev = s[j - 1];
			i = j;
			continue;
		}
		if (c == '-' && i + 1 < len && s[i + 1] == '-')
		{
			while (i < len && s[i] != '\n')
				i++;
			out.Space();
			prev = ' ';
			continue;
		}
		if (c == '/' && i + 1 < len && s[i + 1] == '*')
		{
			int			depth = 0;

			while (i < len)
			{
				if (s[i] == '/' && i + 1 < len && s[i + 1] == '*')
				{
					depth++;
					i += 2;
				}
				else if (s[i] == '*' && i + 1 < len && s[i + 1] == '/')
				{
					i += 2;
					if (--depth == 0)
						break;
				}
				else
					i++;
			}
			out.Space();
			prev = ' ';
			continue;
		}
		if (c == '\'')
		{
			/* E'...' takes backslash escapes; a standard string does not */
			bool		escapes = (prev == 'e' || prev == 'E') &&
				(i < 2 || !IsIdent(s[i - 2]));

			i++;
			while (i < len)
			{
				if (escapes && s[i] == '\\' && i + 1 < len)
					i += 2;
				else if (s[i] == '\'')
				{
					if (i + 1 < len && s[i + 1] == '\'')
						i += 2;
					else
					{
						i++;
						break;
					}
				}
				else
					i++;
			}
			out.Constant(s + i0, i - i0);
			prev = '\'';
			continue;
		}
		if (c == '"')
		{
			out.Byte(c);
			i++;
			while (i < len)
			{
				out.Byte(s[i]);
				if (s[i] == '"')
				{
					if (i + 1 < len && s[i + 1] == '"')
					{
						out.Byte(s[i + 1]);
						i += 2;
						continue;
					}
					i++;
					break;
				}
				i++;
			}
			prev = '"';
			continue;
		}
		if (c == '$' && !IsIdent(prev))
		{
			if (i + 1 < len && IsDigit(s[i + 1]))
			{
				/* a parameter: kept as it is */
				uint64_t	n = 0;

				out.Byte(c);
				i++;
				while (i < len && IsDigit(s[i]))
				{
					n = n * 10 + (s[i] - '0');
					out.Byte(s[i]);
					i++;
				}
				out.Param(n);
				prev = '0';
				continue;
			}
			/* a dollar quote: $tag$ ... $tag$ */
			size_t		t = i + 1;

			while (t < len && s[t] != '$' && IsIdent(s[t]) && !(t == i + 1 && IsDigit(s[t])))
				t++;
			if (t < len && s[t] == '$')
			{
				size_t		taglen = t - i + 1;
				size_t		j = t + 1;
				bool		closed = false;

				while (j + taglen <= len)
				{
					if (s[j] == '$' && __builtin_memcmp(s + j, s + i, taglen) == 0)
					{
						j += taglen;
						closed = true;
						break;
					}
					j++;
				}
				i = closed ? j : len;
				out.Constant(s + i0, i - i0);
				prev = '\'';
				continue;
			}
		}
		if ((IsDigit(c) || (c == '.' && i + 1 < len && IsDigit(s[i + 1]))) && !IsIdent(prev) &&
			prev != '.')
		{
			/* a number: digits, a fraction, an exponent, 0x/0o/0b, underscores */
			i++;
			while (i < len)
			{
				unsigned char d = s[i];

				if (kNumber.c[d])
					i++;
				else if ((s[i - 1] == 'e' || s[i - 1] == 'E') && (d == '+' || d == '-'))
					i++;
				else
					break;
			}
			out.Constant(s + i0, i - i0);
			prev = '0';
			continue;
		}
		out.Byte(c);
		prev = c;
		i++;
	}
}

struct Hasher
{
	uint64_t	h = 0xcbf29ce484222325ULL;
	const unsigned char *end = nullptr;	/* end of the text */
	bool		space = false;	/* a space is pending */

	void		Put(unsigned char c)
	{
		h = (h ^ c) * 0x100000001b3ULL;
	}
	void		Byte(unsigned char c)
	{
		if (space)
		{
			Put(' ');
			space = false;
		}
		Put(c);
	}
	/* eight bytes at a time */
	void		Run(const unsigned char *p, size_t n)
	{
		if (space)
		{
			Put(' ');
			space = false;
		}
		uint64_t	x = h;

		while (n >= 8)
		{
			uint64_t	v;

			__builtin_memcpy(&v, p, 8);
			x = (x ^ v) * 0x9e3779b97f4a7c15ULL;
			x ^= x >> 29;
			p += 8;
			n -= 8;
		}
		if (n > 0)
		{
			uint64_t	v = 0;

			if (p + 8 <= end)
			{
				/* a whole word is readable: load it and keep n bytes */
				__builtin_memcpy(&v, p, 8);
				v &= ~static_cast<uint64_t>(0) >> (64 - 8 * n);
			}
			else
			{
				/* the text's last bytes: 4, 2 and 1 at a time, never past its end */
				size_t		off = 0;

				if (n & 4)
				{
					uint32_t	w;

					__builtin_memcpy(&w, p, 4);
					v = w;
					off = 4;
				}
				if (n & 2)
				{
					uint16_t	w;

					__builtin_memcpy(&w, p + off, 2);
					v |= static_cast<uint64_t>(w) << (8 * off);
					off += 2;
				}
				if (n & 1)
					v |= static_cast<uint64_t>(p[off]) << (8 * off);
			}
			x = (x ^ v ^ (static_cast<uint64_t>(n) << 59)) * 0x9e3779b97f4a7c15ULL;
			x ^= x >> 29;
		}
		h = x;
	}
	void		Space()
	{
		space = true;
	}
	bool		keep_constants = false;

	void		Constant(const unsigned char *p, size_t n)
	{
		if (!keep_constants)
		{
			Byte(0x01);
			return;
		}
		for (size_t j = 0; j < n; j++)
			Byte(p[j]);
	}
	void		Param(uint64_t)
	{
	}
};

struct MaxParam
{
	uint64_t	max = 0;

	void		Byte(unsigned char)
	{
	}
	void		Run(const unsigned char *, size_t)
	{
	}
	void		Space()
	{
	}
	void		Constant(const unsigned char *, size_t)
	{
	}
	void		Param(uint64_t n)
	{
		if (n > max)
			max = n;
	}
};

struct Writer
{
	char	   *out;
	size_t		cap;
	size_t		n = 0;
	uint64_t	next;			/* number of the next constant */
	bool		space = false;

	void		Put(char c)
	{
		if (n + 1 < cap)
			out[n++] = c;
	}
	void		Byte(unsigned char c)
	{
		if (space && n > 0)
			Put(' ');
		space = false;
		Put(static_cast<char>(c));
	}
	/* white space (new lines, tabs, runs of blanks) reads as one blank */
	void		Run(const unsigned char *p, size_t len)
	{
		for (size_t j = 0; j < len; j++)
		{
			if (p[j] == ' ' || p[j] == '\n' || p[j] == '\t' || p[j] == '\r')
				space = true;
			else
				Byte(p[j]);
		}
	}
	void		Space()
	{
		space = true;
	}
	bool		keep_constants = false;

	void		Constant(const unsigned char *p, size_t len)
	{
		if (keep_constants)
		{
			for (size_t j = 0; j < len; j++)
				Byte(p[j]);
			return;
		}
		char		num[24];
		int			k = 0;
		uint64_t	v = next++;

		do
		{
			num[k++] = static_cast<char>('0' + v % 10);
			v /= 10;
		} while (v > 0 && k < 24);
		Byte('$');
		while (k > 0)
			Put(num[--k]);
	}
	void		Param(uint64_t)
	{
	}
};

}								/* namespace */

void
StatementText(const char *source, int location, int len, const char **text, int *text_len)
{
	if (source == nullptr)
	{
		*text = "";
		*text_len = 0;
		return;
	}
	if (location < 0)
		location = 0;
	if (len <= 0)
		len = static_cast<int>(strlen(source + location));
	while (len > 0 && (source[location] == ' ' || source[location] == '\n' ||
					   source[location] == '\t' || source[location] == '\r'))
	{
		location++;
		len--;
	}
	*text = source + location;
	*text_len = len;
}

uint64_t
TextFingerprint(const char *text, size_t len, bool keep_constants)
{
	Hasher		h;

	h.keep_constants = keep_constants;
	h.end = reinterpret_cast<const unsigned char *>(text) + len;
	Scan(text, len, h);
	return h.h;
}

size_t
NormalizeText(const char *text, size_t len, char *out, size_t cap, bool keep_constants)
{
	MaxParam	m;

	if (cap == 0)
		return 0;
	Scan(text, len, m);

	Writer		w{out, cap, 0, m.max + 1};

	w.keep_constants = keep_constants;
	Scan(text, len, w);
	/* never end inside a multibyte character */
	size_t		n = w.n;

	if (n + 1 >= cap)
		while (n > 0 && (static_cast<unsigned char>(out[n - 1]) & 0xC0) == 0x80)
			n--;
	if (n > 0 && n + 1 >= cap && static_cast<unsigned char>(out[n - 1]) >= 0xC0)
		n--;
	out[n] = '\0';
	return n;
}

}								/* namespace memprof */
