// {{ m.generated }}
//
{%- for d in m.docs %}
//{% if !d.is_empty() %} {{ d }}{% endif %}
{%- endfor %}
{%- if !m.docs.is_empty() %}
//
{%- endif %}
// CUDA / C++ header for the `{{ m.module }}` schema{% if !m.package.is_empty() %} (package {{ m.package }}){% endif %}.
//
// - POD structs for fixed-shape records: their leaves as C arrays, in IR order, C layout
//   (bool as uint8_t, enums as their repr type, f16/bf16 as uint16_t raw bits, a per-field
//   @packed leaf as its packed bytes); sizes and offsets are checked by static_asserts below.
// - `<Sample>View`: one device pointer per SoA column (DESIGN §5), plus the row count.
// - `<Record>Packed`: the aggregate bitstream (LSB-first; stream bit p is bit p & 31 of word
//   p >> 5), its sizes and SCHEMAC_HD accessors for one value of one leaf.
// - `<Record>PackedFields`: accessors for per-field @packed leaves (bit p is bit p & 7 of byte p >> 3).
//
// Everything here is usable from host and device code; without nvcc (`__CUDACC__` undefined)
// SCHEMAC_HD is empty, so the header also compiles with a plain C++17 compiler. The batch
// kernels and their `extern "C"` launchers are in {{ m.module }}_kernels.cu; their declarations
// below are visible under nvcc, or when <cuda_runtime_api.h> was included first.
#pragma once
#ifndef {{ m.guard }}
#define {{ m.guard }}

#include <cstddef>
#include <cstdint>
#include <type_traits>
{% for i in m.includes %}
#include "{{ i }}"
{%- endfor %}

#ifndef SCHEMAC_HD
#if defined(__CUDACC__)
#define SCHEMAC_HD __host__ __device__
#else
#define SCHEMAC_HD
#endif
#endif

namespace {{ m.ns }} {
{% for u in m.usings %}
using {{ u }};
{%- endfor %}

/// Bit-stream helpers shared by the accessors and the kernels (DESIGN §5 bit order).
namespace detail {

/// The low `bits` bits set, `bits` in 1..=32.
SCHEMAC_HD constexpr uint32_t mask(uint32_t bits) { return 0xFFFFFFFFu >> (32u - bits); }

/// Sign-extends the low `bits` bits of `code`.
SCHEMAC_HD constexpr int32_t sign_extend(uint32_t code, uint32_t bits) {
    return static_cast<int32_t>(code << (32u - bits)) >> (32u - bits);
}

/// The code of the value at stream bit `p` of a word stream: one or two words, one shift.
SCHEMAC_HD inline uint32_t read_code(const uint32_t* words, uint64_t p, uint32_t bits) {
    const uint64_t w = p >> 5;
    const uint32_t s = static_cast<uint32_t>(p & 31u);
    uint64_t x = words[w];
    if (s + bits > 32u) {
        x |= static_cast<uint64_t>(words[w + 1]) << 32;
    }
    return static_cast<uint32_t>(x >> s) & mask(bits);
}

/// Overwrites the `bits` bits at stream bit `p` of a word stream, leaving the others alone.
SCHEMAC_HD inline void write_code(uint32_t* words, uint64_t p, uint32_t bits, uint32_t code) {
    const uint64_t w = p >> 5;
    const uint32_t s = static_cast<uint32_t>(p & 31u);
    const uint64_t m = static_cast<uint64_t>(mask(bits)) << s;
    const uint64_t c = static_cast<uint64_t>(code & mask(bits)) << s;
    words[w] = (words[w] & ~static_cast<uint32_t>(m)) | static_cast<uint32_t>(c);
    if (s + bits > 32u) {
        words[w + 1] = (words[w + 1] & ~static_cast<uint32_t>(m >> 32)) | static_cast<uint32_t>(c >> 32);
    }
}

/// The code of the value at stream bit `p` of a byte stream (reads at most 5 bytes, never
/// past the byte holding the value's last bit).
SCHEMAC_HD inline uint32_t read_code_bytes(const uint8_t* bytes, uint64_t p, uint32_t bits) {
    const uint64_t b = p >> 3;
    const uint32_t s = static_cast<uint32_t>(p & 7u);
    const uint32_t nb = (s + bits + 7u) >> 3;
    uint64_t x = 0;
    for (uint32_t k = 0; k < nb; ++k) {
        x |= static_cast<uint64_t>(bytes[b + k]) << (8u * k);
    }
    return static_cast<uint32_t>(x >> s) & mask(bits);
}

/// Overwrites the `bits` bits at stream bit `p` of a byte stream, leaving the others alone.
SCHEMAC_HD inline void write_code_bytes(uint8_t* bytes, uint64_t p, uint32_t bits, uint32_t code) {
    const uint64_t b = p >> 3;
    const uint32_t s = static_cast<uint32_t>(p & 7u);
    const uint32_t nb = (s + bits + 7u) >> 3;
    const uint64_t m = static_cast<uint64_t>(mask(bits)) << s;
    const uint64_t c = static_cast<uint64_t>(code & mask(bits)) << s;
    for (uint32_t k = 0; k < nb; ++k) {
        const uint32_t sh = 8u * k;
        bytes[b + k] = static_cast<uint8_t>((bytes[b + k] & ~static_cast<uint8_t>(m >> sh)) | static_cast<uint8_t>(c >> sh));
    }
}

/// The stored code of a value: its low BITS bits (two's complement for signed types); bool
/// leaves store 1 for any nonzero value.
template <bool IS_BOOL, uint32_t BITS, typename T>
SCHEMAC_HD inline uint32_t to_code(T v) {
    if constexpr (IS_BOOL) {
        return v ? 1u : 0u;
    } else {
        return static_cast<uint32_t>(v) & mask(BITS);
    }
}

/// Whether `v` fits in BITS bits (unsigned: below 2^BITS; signed: in [-2^(BITS-1), 2^(BITS-1));
/// bool: 0 or 1). Values that do not fit are validation errors (DESIGN §5).
template <bool IS_BOOL, uint32_t BITS, typename T>
SCHEMAC_HD inline bool fits(T v) {
    if constexpr (IS_BOOL) {
        return static_cast<uint32_t>(v) <= 1u;
    } else if constexpr (std::is_signed<T>::value) {
        const int64_t x = static_cast<int64_t>(v);
        return x >= -(int64_t(1) << (BITS - 1u)) && x < (int64_t(1) << (BITS - 1u));
    } else {
        return (static_cast<uint64_t>(v) >> BITS) == 0u;
    }
}

/// A value from its code: sign-extended for signed types, 0/1 for bool.
template <bool IS_BOOL, uint32_t BITS, typename T>
SCHEMAC_HD inline T from_code(uint32_t code) {
    if constexpr (IS_BOOL) {
        return static_cast<T>(code != 0u);
    } else if constexpr (std::is_signed<T>::value) {
        return static_cast<T>(sign_extend(code, BITS));
    } else {
        return static_cast<T>(code);
    }
}

/// Appends codes to a word stream through a 64-bit window; each word is stored once, when full.
struct BitWriter {
    uint32_t* out;
    uint64_t acc;
    uint32_t n;
    SCHEMAC_HD explicit BitWriter(uint32_t* words) : out(words), acc(0), n(0) {}
    SCHEMAC_HD void put(uint32_t code, uint32_t bits) {
        acc |= static_cast<uint64_t>(code) << n;
        n += bits;
        if (n >= 32u) {
            *out++ = static_cast<uint32_t>(acc);
            acc >>= 32;
            n -= 32u;
        }
    }
    /// Stores the last, partial word (its padding bits zero).
    SCHEMAC_HD void finish() {
        if (n > 0u) {
            *out++ = static_cast<uint32_t>(acc);
            acc = 0;
            n = 0;
        }
    }
};

/// Reads codes from a word stream through a 64-bit window; each word is loaded once.
struct BitReader {
    const uint32_t* in;
    uint64_t acc;
    uint32_t n;
    SCHEMAC_HD explicit BitReader(const uint32_t* words) : in(words), acc(0), n(0) {}
    SCHEMAC_HD uint32_t get(uint32_t bits) {
        if (n < bits) {
            acc |= static_cast<uint64_t>(*in++) << n;
            n += 32u;
        }
        const uint32_t code = static_cast<uint32_t>(acc) & mask(bits);
        acc >>= bits;
        n -= bits;
        return code;
    }
};

/// Word-parallel packing: ORs the values of one leaf (bits [OFFSET, OFFSET + COUNT*BITS))
/// that overlap stream bits [lo, lo + 32) into a 64-bit window holding bits [lo - 32, lo + 32).
/// Word `lo / 32` is then `window >> 32`. `vals` is the leaf's values for one row.
template <uint64_t OFFSET, uint32_t BITS, uint32_t COUNT, bool IS_BOOL, typename T>
SCHEMAC_HD inline uint64_t pack_window(const T* vals, uint64_t lo, bool& ok) {
    constexpr uint64_t END = OFFSET + static_cast<uint64_t>(COUNT) * BITS;
    if (lo >= END || lo + 32u <= OFFSET) {
        return 0;
    }
    const uint32_t k0 = lo <= OFFSET ? 0u : static_cast<uint32_t>((lo - OFFSET) / BITS);
    const uint64_t k1w = (lo + 32u - OFFSET + BITS - 1u) / BITS;
    const uint32_t k1 = k1w < COUNT ? static_cast<uint32_t>(k1w) : COUNT;
    uint64_t window = 0;
    for (uint32_t k = k0; k < k1; ++k) {
        const T v = vals[k];
        ok = ok && fits<IS_BOOL, BITS>(v);
        // Value k starts at stream bit OFFSET + k*BITS, in (lo - 32, lo + 32): shift in (0, 64).
        const uint32_t shift = static_cast<uint32_t>(OFFSET + static_cast<uint64_t>(k) * BITS + 32u - lo);
        window |= static_cast<uint64_t>(to_code<IS_BOOL, BITS>(v)) << shift;
    }
    return window;
}

/// Word-parallel unpacking: decodes the values of one leaf whose first bit lies in stream
/// bits [lo, lo + 32), given `window` = stream bits [lo, lo + 64).
template <uint64_t OFFSET, uint32_t BITS, uint32_t COUNT, bool IS_BOOL, typename T>
SCHEMAC_HD inline void unpack_window(uint64_t window, uint64_t lo, T* vals) {
    constexpr uint64_t END = OFFSET + static_cast<uint64_t>(COUNT) * BITS;
    if (lo >= END || lo + 32u <= OFFSET) {
        return;
    }
    const uint32_t k0 = lo <= OFFSET ? 0u : static_cast<uint32_t>((lo - OFFSET + BITS - 1u) / BITS);
    const uint64_t k1w = (lo + 32u - OFFSET + BITS - 1u) / BITS;
    const uint32_t k1 = k1w < COUNT ? static_cast<uint32_t>(k1w) : COUNT;
    for (uint32_t k = k0; k < k1; ++k) {
        const uint32_t shift = static_cast<uint32_t>(OFFSET + static_cast<uint64_t>(k) * BITS - lo);
        vals[k] = from_code<IS_BOOL, BITS, T>(static_cast<uint32_t>(window >> shift) & mask(BITS));
    }
}

/// Bit `row` of an Arrow-style validity bitmap (LSB-first bytes).
SCHEMAC_HD inline bool bitmap_get(const uint8_t* bitmap, int64_t row) {
    return ((bitmap[row >> 3] >> (row & 7)) & 1u) != 0u;
}

}  // namespace detail
{%- for e in m.enums %}

{% for d in e.docs -%}
/// {{ d }}
{% endfor -%}
enum class {{ e.name }} : {{ e.repr }} {
{%- for v in e.variants %}
{%- for d in v.docs %}
    /// {{ d }}
{%- endfor %}
    {{ v.name }} = {{ v.index }},
{%- endfor %}
};
static_assert(sizeof({{ e.name }}) == sizeof({{ e.repr }}), "{{ e.name }} is stored as {{ e.repr }}");
{%- endfor %}
{%- for r in m.records %}

// ---------------------------------------------------------------------------------------------
// {{ r.kind }} {{ r.name }}

/// Layout fingerprint of {{ r.name }} (changes exactly when any wire layout does).
constexpr uint64_t {{ r.shouty }}_FINGERPRINT = 0x{{ r.fingerprint }}ull;
{%- if let Some(pod) = r.pod %}

{% for d in r.docs -%}
/// {{ d }}
{% endfor -%}
/// POD layout: {{ pod.size }} bytes, aligned to {{ pod.align }}.
struct {{ r.name }} {
{%- for f in pod.members %}
{%- for d in f.docs %}
    /// {{ d }}
{%- endfor %}
    {{ f.decl }};  // {{ f.comment }}
{%- endfor %}
};
static_assert(std::is_standard_layout<{{ r.name }}>::value && std::is_trivial<{{ r.name }}>::value, "{{ r.name }} is POD");
static_assert(sizeof({{ r.name }}) == {{ pod.size }}, "sizeof({{ r.name }})");
static_assert(alignof({{ r.name }}) == {{ pod.align }}, "alignof({{ r.name }})");
{%- for f in pod.members %}
static_assert(offsetof({{ r.name }}, {{ f.name }}) == {{ f.offset }}, "offsetof({{ r.name }}, {{ f.name }})");
{%- endfor %}
{%- endif %}
{%- if let Some(p) = r.packed %}

/// {{ r.name }} in the aggregate bitstream (DESIGN §5): {{ p.total_bits }} bits, held as {{ p.words }} little-endian
/// uint32 words; the compact byte form is the first {{ p.compact_bytes }} bytes ({{ p.words_len }} words + {{ p.tail_bytes }} tail bytes).
/// Accessors take `words`, the {{ p.words }} words of one row, and the flat C-order index `i` of
/// the value within the leaf (no bounds check); `set_*` stores the low BITS bits of the value.
struct {{ p.name }} {
    static constexpr uint32_t TOTAL_BITS = {{ p.total_bits }};
    static constexpr uint32_t WORDS = {{ p.words }};
    static constexpr uint32_t WORDS_LEN = {{ p.words_len }};
    static constexpr uint32_t TAIL_BYTES = {{ p.tail_bytes }};
    static constexpr uint32_t COMPACT_BYTES = {{ p.compact_bytes }};
{% for l in p.leaves %}
    static constexpr uint32_t {{ l.upper }}_BIT_OFFSET = {{ l.offset }};
    static constexpr uint32_t {{ l.upper }}_BITS = {{ l.bits }};
    static constexpr uint32_t {{ l.upper }}_COUNT = {{ l.count }};
{%- endfor %}

    uint32_t words[WORDS];
{%- for l in p.leaves %}

    /// {{ l.desc }}: stream bits [{{ l.offset }}, {{ l.end }}).
{%- for d in l.docs %}
    /// {{ d }}
{%- endfor %}
    static SCHEMAC_HD inline {{ l.value_type }} get_{{ l.name }}(const uint32_t* words, uint32_t i = 0) {
        return detail::from_code<{{ l.is_bool }}, {{ l.bits }}u, {{ l.value_type }}>(
            detail::read_code(words, {{ l.offset }}u + static_cast<uint64_t>(i) * {{ l.bits }}u, {{ l.bits }}u));
    }
    static SCHEMAC_HD inline void set_{{ l.name }}(uint32_t* words, uint32_t i, {{ l.value_type }} v) {
        detail::write_code(words, {{ l.offset }}u + static_cast<uint64_t>(i) * {{ l.bits }}u, {{ l.bits }}u,
                           detail::to_code<{{ l.is_bool }}, {{ l.bits }}u>(v));
    }
    static SCHEMAC_HD inline bool fits_{{ l.name }}({{ l.col_type }} v) { return detail::fits<{{ l.is_bool }}, {{ l.bits }}u>(v); }
{%- endfor %}

    /// Packs one {{ r.name }} into `words` ({{ p.words }} words, padding bits zeroed). Values are
    /// stored as their low bits; returns false if any value did not fit (the words are still written).
    static SCHEMAC_HD inline bool pack(const {{ r.name }}& s, uint32_t* words) {
        detail::BitWriter w(words);
        bool ok = true;
{%- for l in p.leaves %}
        {
            const {{ l.col_type }}* v = {{ l.pod_first }};
            for (uint32_t k = 0; k < {{ l.count }}u; ++k) {
                ok = ok && detail::fits<{{ l.is_bool }}, {{ l.bits }}u>(v[k]);
                w.put(detail::to_code<{{ l.is_bool }}, {{ l.bits }}u>(v[k]), {{ l.bits }}u);
            }
        }
{%- endfor %}
        w.finish();
        return ok;
    }

    /// Unpacks `words` ({{ p.words }} words of one row) into `s`.
    static SCHEMAC_HD inline void unpack(const uint32_t* words, {{ r.name }}& s) {
        detail::BitReader rd(words);
{%- for l in p.leaves %}
        {
            {{ l.col_type }}* v = {{ l.pod_first }};
            for (uint32_t k = 0; k < {{ l.count }}u; ++k) {
                v[k] = detail::from_code<{{ l.is_bool }}, {{ l.bits }}u, {{ l.col_type }}>(rd.get({{ l.bits }}u));
            }
        }
{%- endfor %}
    }
};
static_assert(sizeof({{ p.name }}) == 4u * {{ p.words }}u, "sizeof({{ p.name }})");
{%- endif %}
{%- if let Some(f) = r.fields_packed %}

/// Per-field packed (@packed) leaves of {{ r.name }}: each leaf is its own LSB-first byte
/// stream of ceil(COUNT * BITS / 8) bytes; value i occupies bits [i*BITS, (i+1)*BITS), stream bit p
/// being bit p & 7 of byte p >> 3. Accessors take the leaf's bytes and the flat index `i`.
struct {{ f.name }} {
{%- for l in f.leaves %}
    static constexpr uint32_t {{ l.upper }}_BITS = {{ l.bits }};
    static constexpr uint32_t {{ l.upper }}_COUNT = {{ l.count }};
    static constexpr uint32_t {{ l.upper }}_BYTES = {{ l.bytes }};
{%- endfor %}
{%- for l in f.leaves %}

    /// {{ l.desc }}: {{ l.bytes }} bytes.
    static SCHEMAC_HD inline {{ l.value_type }} get_{{ l.name }}(const uint8_t* bytes, uint32_t i = 0) {
        return detail::from_code<{{ l.is_bool }}, {{ l.bits }}u, {{ l.value_type }}>(
            detail::read_code_bytes(bytes, static_cast<uint64_t>(i) * {{ l.bits }}u, {{ l.bits }}u));
    }
    static SCHEMAC_HD inline void set_{{ l.name }}(uint8_t* bytes, uint32_t i, {{ l.value_type }} v) {
        detail::write_code_bytes(bytes, static_cast<uint64_t>(i) * {{ l.bits }}u, {{ l.bits }}u,
                                 detail::to_code<{{ l.is_bool }}, {{ l.bits }}u>(v));
    }
{%- endfor %}
};
{%- endif %}
{%- if let Some(v) = r.view %}

/// A batch of {{ r.name }} as structure-of-arrays columns in device memory (DESIGN §5): fixed
/// columns are row-major `[n, ...shape]`; ragged ones are `values` + `offsets[n + 1]` (in
/// elements) + `shapes[n, ndim]`; str/bytes and list/map (msgpack per row) are `values` (bytes)
/// + `offsets[n + 1]` (in bytes); optional leaves have an LSB-first validity bitmap.
struct {{ v.name }} {
{%- for c in v.columns %}
{%- if c.is_fixed() %}
    static constexpr int64_t {{ c.upper }}_PER_ROW = {{ c.per_row }};
{%- elif c.is_ragged() %}
    static constexpr int64_t {{ c.upper }}_NDIM = {{ c.ndim }};
{%- endif %}
{%- endfor %}
{%- for c in v.columns %}

    /// {{ c.desc }} ({{ c.storage_desc() }}{% if c.packed_field %}; unpacked values, one per element{% endif %})
{%- for d in c.docs %}
    /// {{ d }}
{%- endfor %}
{%- if c.is_fixed() %}
    {{ c.elem }}* __restrict__ {{ c.name }};
{%- elif c.is_ragged() %}
    {{ c.elem }}* __restrict__ {{ c.name }}_values;
    int64_t* __restrict__ {{ c.name }}_offsets;
    int64_t* __restrict__ {{ c.name }}_shapes;
{%- else %}
    uint8_t* __restrict__ {{ c.name }}_values;
    int64_t* __restrict__ {{ c.name }}_offsets;
{%- endif %}
{%- if c.validity %}
    uint8_t* __restrict__ {{ c.name }}_validity;
{%- endif %}
{%- endfor %}

    /// Rows.
    int64_t n;
{%- for c in v.columns %}
{%- if c.validity %}

    SCHEMAC_HD bool {{ c.name }}_is_valid(int64_t row) const { return detail::bitmap_get({{ c.name }}_validity, row); }
{%- endif %}
{%- endfor %}
{%- if let Some(p) = r.packed %}

    /// Word `w` of row `row` of the packed batch, built from the values that overlap it (what
    /// the pack kernel stores, one thread per word). Clears `ok` if one of them does not fit.
    SCHEMAC_HD uint32_t packed_word(int64_t row, uint32_t w, bool& ok) const {
        const uint64_t lo = static_cast<uint64_t>(w) * 32u;
        uint64_t window = 0;
{%- for l in p.leaves %}
        window |= detail::pack_window<{{ l.offset }}u, {{ l.bits }}u, {{ l.count }}u, {{ l.is_bool }}>({{ l.name }} + row * {{ l.count }}, lo, ok);
{%- endfor %}
        return static_cast<uint32_t>(window >> 32);
    }

    /// Decodes into row `row` the values whose first bit lies in word `w` of `row_words` (the
    /// {{ p.words }} packed words of that row): what the unpack kernel does, one thread per word.
    SCHEMAC_HD void unpack_word(const uint32_t* row_words, int64_t row, uint32_t w) const {
        const uint64_t lo = static_cast<uint64_t>(w) * 32u;
        uint64_t window = row_words[w];
        if (w + 1u < {{ p.name }}::WORDS) {
            window |= static_cast<uint64_t>(row_words[w + 1]) << 32;
        }
{%- for l in p.leaves %}
        detail::unpack_window<{{ l.offset }}u, {{ l.bits }}u, {{ l.count }}u, {{ l.is_bool }}>(window, lo, {{ l.name }} + row * {{ l.count }});
{%- endfor %}
    }
{%- endif %}
};
static_assert(std::is_standard_layout<{{ v.name }}>::value, "{{ v.name }} is passed to kernels and over FFI");
{%- endif %}
{%- endfor %}

}  // namespace {{ m.ns }}

#if defined(__CUDACC__) || defined(CUDART_VERSION)
// Host launchers (defined in {{ m.module }}_kernels.cu). Each returns cudaGetLastError() after
// an asynchronous launch on `stream`, or cudaErrorInvalidValue for bad arguments; `view` is a
// host pointer to a view whose column pointers are device pointers.
extern "C" {
{%- for r in m.records %}
{%- if r.is_sample %}
{%- if let Some(p) = r.packed %}
{%- if let Some(v) = r.view %}
/// Packs rows [0, n) of the view into `words` (`[n, {{ p.words }}]` uint32, device memory).
cudaError_t {{ r.c_prefix }}_pack(const {{ m.ns }}::{{ v.name }}* view, uint32_t* words, int64_t n, cudaStream_t stream);
/// As `_pack`, and stores in `*first_bad_row` (device memory) the smallest row holding a value that
/// does not fit its bits, or UINT64_MAX when every value fits.
cudaError_t {{ r.c_prefix }}_pack_checked(const {{ m.ns }}::{{ v.name }}* view, uint32_t* words, int64_t n, unsigned long long* first_bad_row, cudaStream_t stream);
/// Unpacks `words` (`[n, {{ p.words }}]`) into rows [0, n) of the view's columns.
cudaError_t {{ r.c_prefix }}_unpack(const uint32_t* words, const {{ m.ns }}::{{ v.name }}* view, int64_t n, cudaStream_t stream);
{%- for l in p.leaves %}
/// Unpacks leaf `{{ l.path }}` only: `out` is `[n, {{ l.count }}]` {{ l.col_type }}.
cudaError_t {{ r.c_prefix }}_unpack_{{ l.name }}(const uint32_t* words, {{ l.col_type }}* out, int64_t n, cudaStream_t stream);
{%- endfor %}
/// out[j] = words[indices[j]] for j in [0, n_out), rows of {{ p.words }} words; an index outside
/// [0, n_in) gives a row of zeros.
cudaError_t {{ r.c_prefix }}_gather(const uint32_t* words, int64_t n_in, const int64_t* indices, uint32_t* out, int64_t n_out, cudaStream_t stream);
{%- endif %}
{%- endif %}
{%- endif %}
{%- endfor %}
}  // extern "C"
#endif

#endif  // {{ m.guard }}
