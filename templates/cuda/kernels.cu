// {{ m.generated }}
//
// Batch kernels for the `{{ m.module }}` schema and their `extern "C"` host launchers, plus one
// kernel skeleton per sample to copy into your own .cu file. Compile with nvcc next to
// {{ m.header_file }}, e.g. `nvcc -c -arch=sm_80 {{ m.module }}_kernels.cu`.
//
// Layout of packed batches: row-major `[n, WORDS]` uint32 words, row r at words + r * WORDS.
// Pack and unpack run one thread per packed word (grid-stride loops): a thread ORs the values
// that overlap its word into a 64-bit window and stores the word once, so stores (pack) and
// loads (unpack) are coalesced and no loop runs per bit.
#include "{{ m.header_file }}"

#include <cuda_runtime.h>

namespace {{ m.ns }} {
namespace kernels {

/// Threads per block of every launcher.
constexpr int kBlock = 256;

/// Blocks for `items` work items: enough to fill the GPU, the grid-stride loops do the rest.
inline unsigned int grid_for(int64_t items) {
    const int64_t blocks = (items + kBlock - 1) / kBlock;
    return static_cast<unsigned int>(blocks < 65536 ? blocks : 65536);
}

/// First grid-stride index and stride, in 64 bits (n * WORDS can exceed 2^31).
__device__ inline int64_t first_index() { return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ inline int64_t grid_stride() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }
{%- for r in m.records %}
{%- if r.is_sample %}
{%- if let Some(p) = r.packed %}
{%- if let Some(v) = r.view %}

// ---------------------------------------------------------------------------------------------
// {{ r.name }}: {{ p.total_bits }} bits, {{ p.words }} words per row.

/// One thread per packed word: word `w` of row `row` is built from the values overlapping it.
template <bool CHECK>
__global__ void {{ r.snake }}_pack_kernel({{ v.name }} v, uint32_t* __restrict__ words, int64_t n,
                                          unsigned long long* __restrict__ first_bad_row) {
    constexpr uint32_t W = {{ p.name }}::WORDS;
    const int64_t total = n * W;
    for (int64_t t = first_index(); t < total; t += grid_stride()) {
        const int64_t row = t / W;
        const uint32_t w = static_cast<uint32_t>(t - row * W);
        bool ok = true;
        words[t] = v.packed_word(row, w, ok);
        if (CHECK && !ok) {
            atomicMin(first_bad_row, static_cast<unsigned long long>(row));
        }
    }
}

/// One thread per packed word: decodes the values whose first bit lies in that word.
__global__ void {{ r.snake }}_unpack_kernel(const uint32_t* __restrict__ words, {{ v.name }} v, int64_t n) {
    constexpr uint32_t W = {{ p.name }}::WORDS;
    const int64_t total = n * W;
    for (int64_t t = first_index(); t < total; t += grid_stride()) {
        const int64_t row = t / W;
        const uint32_t w = static_cast<uint32_t>(t - row * W);
        v.unpack_word(words + row * W, row, w);
    }
}
{%- for l in p.leaves %}

/// One thread per value of leaf `{{ l.path }}`.
__global__ void {{ r.snake }}_unpack_{{ l.name }}_kernel(const uint32_t* __restrict__ words, {{ l.col_type }}* __restrict__ out, int64_t n) {
    const int64_t total = n * {{ l.count }};
    for (int64_t t = first_index(); t < total; t += grid_stride()) {
        const int64_t row = t / {{ l.count }};
        const uint32_t k = static_cast<uint32_t>(t - row * {{ l.count }});
        out[t] = static_cast<{{ l.col_type }}>({{ p.name }}::get_{{ l.name }}(words + row * {{ p.name }}::WORDS, k));
    }
}
{%- endfor %}

/// One thread per output word.
__global__ void {{ r.snake }}_gather_kernel(const uint32_t* __restrict__ words, int64_t n_in,
                                            const int64_t* __restrict__ indices,
                                            uint32_t* __restrict__ out, int64_t n_out) {
    constexpr uint32_t W = {{ p.name }}::WORDS;
    const int64_t total = n_out * W;
    for (int64_t t = first_index(); t < total; t += grid_stride()) {
        const int64_t j = t / W;
        const int64_t w = t - j * W;
        const int64_t src = indices[j];
        out[t] = (src >= 0 && src < n_in) ? words[src * W + w] : 0u;
    }
}
{%- endif %}
{%- endif %}
{%- endif %}
{%- endfor %}
{%- for r in m.records %}
{%- if let Some(v) = r.view %}

/// Kernel skeleton for your own code over a batch of {{ r.name }} (one thread per row): copy it
/// into your .cu file, rename it, and launch it with
/// `<<<kernels::grid_for(view.n), kernels::kBlock>>>`-style sizes. Every column of the row is in scope.
__global__ void {{ r.snake }}_kernel_skeleton({{ v.name }} {{ v.view_var }}) {
    for (int64_t {{ v.row_var }} = first_index(); {{ v.row_var }} < {{ v.view_var }}.n; {{ v.row_var }} += grid_stride()) {
{%- for c in v.columns %}
{%- if c.is_fixed() %}
        [[maybe_unused]] {{ c.elem }}* {{ c.name }} = {{ v.view_var }}.{{ c.name }} + {{ v.row_var }} * {{ v.name }}::{{ c.upper }}_PER_ROW;  // {{ c.desc }}
{%- elif c.is_ragged() %}
        [[maybe_unused]] {{ c.elem }}* {{ c.name }} = {{ v.view_var }}.{{ c.name }}_values + {{ v.view_var }}.{{ c.name }}_offsets[{{ v.row_var }}];  // {{ c.desc }}
        [[maybe_unused]] const int64_t* {{ c.name }}_shape = {{ v.view_var }}.{{ c.name }}_shapes + {{ v.row_var }} * {{ v.name }}::{{ c.upper }}_NDIM;
{%- else %}
        [[maybe_unused]] const uint8_t* {{ c.name }} = {{ v.view_var }}.{{ c.name }}_values + {{ v.view_var }}.{{ c.name }}_offsets[{{ v.row_var }}];  // {{ c.desc }} ({{ c.storage_desc() }})
        [[maybe_unused]] const int64_t {{ c.name }}_len = {{ v.view_var }}.{{ c.name }}_offsets[{{ v.row_var }} + 1] - {{ v.view_var }}.{{ c.name }}_offsets[{{ v.row_var }}];
{%- endif %}
{%- if c.validity %}
        [[maybe_unused]] const bool {{ c.name }}_valid = {{ v.view_var }}.{{ c.name }}_is_valid({{ v.row_var }});
{%- endif %}
{%- endfor %}
{%- if let Some(f) = r.fields_packed %}
        // Per-field @packed leaves of the POD form are read with {{ f.name }}::get_<leaf>(bytes, i).
{%- endif %}

        // YOUR CODE HERE
    }
}
{%- if let Some(p) = r.packed %}

/// Kernel skeleton for your own code over packed {{ r.name }} rows (`[n, {{ p.words }}]` words, one
/// thread per row): read values with {{ p.name }}::get_<leaf>(row_words, i), write them with set_<leaf>.
__global__ void {{ r.snake }}_packed_kernel_skeleton(uint32_t* __restrict__ words, int64_t n) {
    for (int64_t row = first_index(); row < n; row += grid_stride()) {
        [[maybe_unused]] uint32_t* row_words = words + row * {{ p.name }}::WORDS;
{%- for l in p.leaves %}
        // {{ l.desc }}: {{ p.name }}::get_{{ l.name }}(row_words, i), i < {{ p.name }}::{{ l.upper }}_COUNT
{%- endfor %}

        // YOUR CODE HERE
    }
}
{%- endif %}
{%- endif %}
{%- endfor %}

}  // namespace kernels
}  // namespace {{ m.ns }}
{%- if m.has_aggregate_sample() %}

// ---------------------------------------------------------------------------------------------
// extern "C" launchers (declared in {{ m.header_file }}).

extern "C" {
{%- for r in m.records %}
{%- if r.is_sample %}
{%- if let Some(p) = r.packed %}
{%- if let Some(v) = r.view %}

cudaError_t {{ r.c_prefix }}_pack(const {{ m.ns }}::{{ v.name }}* view, uint32_t* words, int64_t n, cudaStream_t stream) {
    if (view == nullptr || words == nullptr || n < 0 || n > view->n) return cudaErrorInvalidValue;
    if (n == 0) return cudaSuccess;
    const int64_t items = n * {{ m.ns }}::{{ p.name }}::WORDS;
    {{ m.ns }}::kernels::{{ r.snake }}_pack_kernel<false><<<{{ m.ns }}::kernels::grid_for(items), {{ m.ns }}::kernels::kBlock, 0, stream>>>(*view, words, n, nullptr);
    return cudaGetLastError();
}

cudaError_t {{ r.c_prefix }}_pack_checked(const {{ m.ns }}::{{ v.name }}* view, uint32_t* words, int64_t n, unsigned long long* first_bad_row, cudaStream_t stream) {
    if (view == nullptr || words == nullptr || first_bad_row == nullptr || n < 0 || n > view->n) return cudaErrorInvalidValue;
    cudaError_t err = cudaMemsetAsync(first_bad_row, 0xFF, sizeof(unsigned long long), stream);
    if (err != cudaSuccess || n == 0) return err;
    const int64_t items = n * {{ m.ns }}::{{ p.name }}::WORDS;
    {{ m.ns }}::kernels::{{ r.snake }}_pack_kernel<true><<<{{ m.ns }}::kernels::grid_for(items), {{ m.ns }}::kernels::kBlock, 0, stream>>>(*view, words, n, first_bad_row);
    return cudaGetLastError();
}

cudaError_t {{ r.c_prefix }}_unpack(const uint32_t* words, const {{ m.ns }}::{{ v.name }}* view, int64_t n, cudaStream_t stream) {
    if (view == nullptr || words == nullptr || n < 0 || n > view->n) return cudaErrorInvalidValue;
    if (n == 0) return cudaSuccess;
    const int64_t items = n * {{ m.ns }}::{{ p.name }}::WORDS;
    {{ m.ns }}::kernels::{{ r.snake }}_unpack_kernel<<<{{ m.ns }}::kernels::grid_for(items), {{ m.ns }}::kernels::kBlock, 0, stream>>>(words, *view, n);
    return cudaGetLastError();
}
{%- for l in p.leaves %}

cudaError_t {{ r.c_prefix }}_unpack_{{ l.name }}(const uint32_t* words, {{ l.col_type }}* out, int64_t n, cudaStream_t stream) {
    if (words == nullptr || out == nullptr || n < 0) return cudaErrorInvalidValue;
    if (n == 0) return cudaSuccess;
    const int64_t items = n * {{ l.count }};
    {{ m.ns }}::kernels::{{ r.snake }}_unpack_{{ l.name }}_kernel<<<{{ m.ns }}::kernels::grid_for(items), {{ m.ns }}::kernels::kBlock, 0, stream>>>(words, out, n);
    return cudaGetLastError();
}
{%- endfor %}

cudaError_t {{ r.c_prefix }}_gather(const uint32_t* words, int64_t n_in, const int64_t* indices, uint32_t* out, int64_t n_out, cudaStream_t stream) {
    if (words == nullptr || indices == nullptr || out == nullptr || n_in < 0 || n_out < 0) return cudaErrorInvalidValue;
    if (n_out == 0) return cudaSuccess;
    const int64_t items = n_out * {{ m.ns }}::{{ p.name }}::WORDS;
    {{ m.ns }}::kernels::{{ r.snake }}_gather_kernel<<<{{ m.ns }}::kernels::grid_for(items), {{ m.ns }}::kernels::kBlock, 0, stream>>>(words, n_in, indices, out, n_out);
    return cudaGetLastError();
}
{%- endif %}
{%- endif %}
{%- endif %}
{%- endfor %}

}  // extern "C"
{%- endif %}
