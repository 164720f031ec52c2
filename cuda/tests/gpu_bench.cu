// GPU check and benchmark of the generated AggState kernels (examples/schemas/puzzle.schema).
//
// Packs an N-row AggState SoA batch on the GPU (default N = 10,000,000), compares the words
// with a host-side reference (AggStatePacked::pack on the CPU), unpacks them back and compares
// the columns, checks the single-leaf unpack, gather and the checked pack, and times each
// kernel against a device-to-device cudaMemcpy of the same number of bytes. Without a CUDA
// device it prints "gpu_bench: skipped: ..." and exits 0.
//
// Build and run (from the repository root, after scripts/setup-cuda.sh):
//
//   source scripts/cuda-env.sh
//   cargo run -p schemac -- gen --cuda --out /tmp/schemac-cuda examples/schemas/puzzle.schema
//   nvcc -O3 -std=c++17 -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 \
//       -I /tmp/schemac-cuda cuda/tests/gpu_bench.cu /tmp/schemac-cuda/puzzle_kernels.cu -o /tmp/gpu_bench
//   /tmp/gpu_bench [rows]
#include "puzzle.cuh"

#include <cuda_runtime.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

using puzzle::AggState;
using puzzle::AggStatePacked;
using puzzle::AggStateView;

namespace {

constexpr int64_t kPeriod = 4099;  // distinct rows in the input (a prime, so no block aligns)
constexpr int kReps = 5;

int g_failed = 0;

#define CUDA_OK(expr)                                                                      \
    do {                                                                                   \
        cudaError_t err_ = (expr);                                                         \
        if (err_ != cudaSuccess) {                                                         \
            std::fprintf(stderr, "gpu_bench: %s failed: %s\n", #expr, cudaGetErrorString(err_)); \
            std::exit(1);                                                                  \
        }                                                                                  \
    } while (0)

void check(bool ok, const char* what) {
    if (!ok) {
        ++g_failed;
        std::fprintf(stderr, "gpu_bench: FAILED: %s\n", what);
    }
}

template <typename T>
T* dalloc(int64_t count) {
    void* p = nullptr;
    CUDA_OK(cudaMalloc(&p, static_cast<size_t>(count) * sizeof(T)));
    return static_cast<T*>(p);
}

// Row r of the input: value k of a leaf is (k + 7r) % 2^bits (flags: (k + r) odd).
AggState make_row(int64_t r) {
    AggState s;
    std::memset(&s, 0, sizeof s);
    for (uint32_t k = 0; k < AggStatePacked::FLAGS_COUNT; ++k) s.flags[k] = static_cast<uint8_t>((k + r) & 1);
    uint8_t* faces = &s.faces[0][0];
    for (uint32_t k = 0; k < AggStatePacked::FACES_COUNT; ++k) faces[k] = static_cast<uint8_t>((k + 7 * r) % 8);
    for (uint32_t k = 0; k < AggStatePacked::CODES_COUNT; ++k) s.codes[k] = static_cast<uint16_t>((k + 7 * r) % 4096);
    return s;
}

struct Timer {
    cudaEvent_t a, b;
    Timer() {
        CUDA_OK(cudaEventCreate(&a));
        CUDA_OK(cudaEventCreate(&b));
    }
    ~Timer() {
        cudaEventDestroy(a);
        cudaEventDestroy(b);
    }
    template <typename F>
    double ms(F&& f) {  // mean of kReps runs after one warm-up
        f();
        CUDA_OK(cudaDeviceSynchronize());
        CUDA_OK(cudaEventRecord(a));
        for (int i = 0; i < kReps; ++i) f();
        CUDA_OK(cudaEventRecord(b));
        CUDA_OK(cudaEventSynchronize(b));
        float t = 0;
        CUDA_OK(cudaEventElapsedTime(&t, a, b));
        return static_cast<double>(t) / kReps;
    }
};

void report(const char* name, double ms, double bytes, double memcpy_ms) {
    const double gbs = bytes / (ms * 1e6);
    std::printf("  %-22s %9.3f ms  %8.1f GB/s  (memcpy of the same bytes: %8.3f ms, kernel/memcpy time %.2fx)\n",
                name, ms, gbs, memcpy_ms, ms / memcpy_ms);
}

}  // namespace

int main(int argc, char** argv) {
    int64_t n = argc > 1 ? std::atoll(argv[1]) : 10000000;
    int devices = 0;
    cudaError_t err = cudaGetDeviceCount(&devices);
    if (err != cudaSuccess || devices == 0) {
        std::printf("gpu_bench: skipped: no CUDA device (%s)\n",
                    err != cudaSuccess ? cudaGetErrorString(err) : "cudaGetDeviceCount returned 0");
        return 0;
    }
    cudaDeviceProp prop;
    CUDA_OK(cudaGetDeviceProperties(&prop, 0));

    constexpr int64_t W = AggStatePacked::WORDS;
    constexpr int64_t F = AggStatePacked::FLAGS_COUNT, FC = AggStatePacked::FACES_COUNT, C = AggStatePacked::CODES_COUNT;
    const int64_t row_soa = F + FC + 2 * C;  // 351 bytes
    const int64_t row_packed = 4 * W;        // 132 bytes
    size_t free_b = 0, total_b = 0;
    CUDA_OK(cudaMemGetInfo(&free_b, &total_b));
    // Input columns, words, output columns, gathered words, indices, and the memcpy scratch.
    const int64_t per_row = 2 * row_soa + 2 * row_packed + 8 + (row_soa + row_packed);
    const int64_t fit = static_cast<int64_t>(free_b * 0.8) / per_row;
    if (n > fit) {
        std::printf("gpu_bench: %lld rows do not fit in %.1f GB free; using %lld\n", (long long)n, free_b / 1e9, (long long)fit);
        n = fit;
    }
    std::printf("gpu_bench: %s (sm_%d%d), %lld AggState rows: %lld B SoA, %lld B packed per row\n", prop.name, prop.major,
                prop.minor, (long long)n, (long long)row_soa, (long long)row_packed);

    // Host input: kPeriod distinct rows repeated; the reference words of each distinct row.
    std::vector<uint8_t> h_flags(n * F), h_faces(n * FC);
    std::vector<uint16_t> h_codes(n * C);
    std::vector<uint32_t> ref(kPeriod * W);
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t r = 0; r < kPeriod && r < n; ++r) {
        const AggState s = make_row(r);
        std::memcpy(&h_flags[r * F], s.flags, F);
        std::memcpy(&h_faces[r * FC], &s.faces[0][0], FC);
        std::memcpy(&h_codes[r * C], s.codes, 2 * C);
        check(AggStatePacked::pack(s, &ref[r * W]), "host reference values fit");
    }
    for (int64_t r = kPeriod; r < n; r += kPeriod) {
        const int64_t m = (n - r < kPeriod ? n - r : kPeriod);
        std::memcpy(&h_flags[r * F], &h_flags[0], m * F);
        std::memcpy(&h_faces[r * FC], &h_faces[0], m * FC);
        std::memcpy(&h_codes[r * C], &h_codes[0], m * C * 2);
    }
    const double host_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("gpu_bench: host input and reference built in %.2f s\n", host_s);

    AggStateView in{}, out{};
    uint32_t *d_words = nullptr, *d_gathered = nullptr;
    int64_t* d_idx = nullptr;
    unsigned long long* d_bad = nullptr;
    in.flags = dalloc<uint8_t>(n * F);
    in.faces = dalloc<uint8_t>(n * FC);
    in.codes = dalloc<uint16_t>(n * C);
    out.flags = dalloc<uint8_t>(n * F);
    out.faces = dalloc<uint8_t>(n * FC);
    out.codes = dalloc<uint16_t>(n * C);
    d_words = dalloc<uint32_t>(n * W);
    d_gathered = dalloc<uint32_t>(n * W);
    d_idx = dalloc<int64_t>(n);
    d_bad = dalloc<unsigned long long>(1);
    in.n = out.n = n;
    CUDA_OK(cudaMemcpy(in.flags, h_flags.data(), n * F, cudaMemcpyHostToDevice));
    CUDA_OK(cudaMemcpy(in.faces, h_faces.data(), n * FC, cudaMemcpyHostToDevice));
    CUDA_OK(cudaMemcpy(in.codes, h_codes.data(), n * C * 2, cudaMemcpyHostToDevice));

    // Correctness: pack -> reference words.
    CUDA_OK(puzzle_agg_state_pack(&in, d_words, n, 0));
    CUDA_OK(cudaDeviceSynchronize());
    {
        std::vector<uint32_t> h_words(n * W);
        CUDA_OK(cudaMemcpy(h_words.data(), d_words, n * row_packed, cudaMemcpyDeviceToHost));
        int64_t bad = -1;
        for (int64_t r = 0; r < n && bad < 0; ++r) {
            if (std::memcmp(&h_words[r * W], &ref[(r % kPeriod) * W], row_packed) != 0) bad = r;
        }
        if (bad >= 0) std::fprintf(stderr, "gpu_bench: packed row %lld differs from the host reference\n", (long long)bad);
        check(bad < 0, "pack matches the host reference (AggStatePacked::pack)");
    }
    // unpack -> the input columns.
    CUDA_OK(puzzle_agg_state_unpack(d_words, &out, n, 0));
    CUDA_OK(cudaDeviceSynchronize());
    {
        std::vector<uint8_t> f(n * F), fc(n * FC);
        std::vector<uint16_t> c(n * C);
        CUDA_OK(cudaMemcpy(f.data(), out.flags, n * F, cudaMemcpyDeviceToHost));
        CUDA_OK(cudaMemcpy(fc.data(), out.faces, n * FC, cudaMemcpyDeviceToHost));
        CUDA_OK(cudaMemcpy(c.data(), out.codes, n * C * 2, cudaMemcpyDeviceToHost));
        check(f == h_flags, "unpack: flags");
        check(fc == h_faces, "unpack: faces");
        check(c == h_codes, "unpack: codes");
        // Single-leaf unpack of faces.
        CUDA_OK(cudaMemset(out.faces, 0, n * FC));
        CUDA_OK(puzzle_agg_state_unpack_faces(d_words, out.faces, n, 0));
        CUDA_OK(cudaMemcpy(fc.data(), out.faces, n * FC, cudaMemcpyDeviceToHost));
        check(fc == h_faces, "unpack_faces");
    }
    // gather: reversed rows.
    {
        std::vector<int64_t> idx(n);
        for (int64_t j = 0; j < n; ++j) idx[j] = n - 1 - j;
        idx[0] = -1;  // out of range: a zero row
        CUDA_OK(cudaMemcpy(d_idx, idx.data(), n * 8, cudaMemcpyHostToDevice));
        CUDA_OK(puzzle_agg_state_gather(d_words, n, d_idx, d_gathered, n, 0));
        std::vector<uint32_t> g(n * W);
        CUDA_OK(cudaMemcpy(g.data(), d_gathered, n * row_packed, cudaMemcpyDeviceToHost));
        bool ok = true;
        for (int64_t k = 0; k < W; ++k) ok = ok && g[k] == 0u;
        for (int64_t j = 1; j < n && ok; ++j) ok = std::memcmp(&g[j * W], &ref[((n - 1 - j) % kPeriod) * W], row_packed) == 0;
        check(ok, "gather");
    }
    // pack_checked: clean input, then one value that does not fit.
    {
        unsigned long long bad = 0;
        CUDA_OK(puzzle_agg_state_pack_checked(&in, d_words, n, d_bad, 0));
        CUDA_OK(cudaMemcpy(&bad, d_bad, sizeof bad, cudaMemcpyDeviceToHost));
        check(bad == ~0ull, "pack_checked: every value fits");
        const int64_t row = n / 2 + 1;
        const uint8_t nine = 9;
        CUDA_OK(cudaMemcpy(in.faces + row * FC + 100, &nine, 1, cudaMemcpyHostToDevice));
        CUDA_OK(puzzle_agg_state_pack_checked(&in, d_words, n, d_bad, 0));
        CUDA_OK(cudaMemcpy(&bad, d_bad, sizeof bad, cudaMemcpyDeviceToHost));
        check(bad == static_cast<unsigned long long>(row), "pack_checked: reports the first bad row");
        const uint8_t orig = h_faces[row * FC + 100];
        CUDA_OK(cudaMemcpy(in.faces + row * FC + 100, &orig, 1, cudaMemcpyHostToDevice));
    }

    // Timing. Bytes moved: pack reads the SoA columns and writes the words; unpack the reverse.
    Timer timer;
    const double soa_bytes = static_cast<double>(n) * row_soa;
    const double packed_bytes = static_cast<double>(n) * row_packed;
    const double faces_bytes = static_cast<double>(n) * FC;
    uint8_t* scratch = dalloc<uint8_t>(static_cast<int64_t>(soa_bytes + packed_bytes));
    auto memcpy_ms = [&](double bytes) {
        // A device-to-device copy of `bytes / 2` bytes reads and writes `bytes` in total.
        const size_t half = static_cast<size_t>(bytes / 2);
        const double t = timer.ms([&] { CUDA_OK(cudaMemcpyAsync(scratch, in.faces, half, cudaMemcpyDeviceToDevice)); });
        return t;
    };
    std::printf("gpu_bench: mean of %d runs; GB/s = (bytes read + bytes written) / time\n", kReps);
    const double pack_ms = timer.ms([&] { CUDA_OK(puzzle_agg_state_pack(&in, d_words, n, 0)); });
    report("pack", pack_ms, soa_bytes + packed_bytes, memcpy_ms(soa_bytes + packed_bytes));
    const double check_ms = timer.ms([&] { CUDA_OK(puzzle_agg_state_pack_checked(&in, d_words, n, d_bad, 0)); });
    report("pack_checked", check_ms, soa_bytes + packed_bytes, memcpy_ms(soa_bytes + packed_bytes));
    const double unpack_ms = timer.ms([&] { CUDA_OK(puzzle_agg_state_unpack(d_words, &out, n, 0)); });
    report("unpack", unpack_ms, soa_bytes + packed_bytes, memcpy_ms(soa_bytes + packed_bytes));
    const double faces_ms = timer.ms([&] { CUDA_OK(puzzle_agg_state_unpack_faces(d_words, out.faces, n, 0)); });
    report("unpack_faces", faces_ms, packed_bytes + faces_bytes, memcpy_ms(packed_bytes + faces_bytes));
    const double gather_ms = timer.ms([&] { CUDA_OK(puzzle_agg_state_gather(d_words, n, d_idx, d_gathered, n, 0)); });
    report("gather (reversed)", gather_ms, 2 * packed_bytes + 8.0 * n, memcpy_ms(2 * packed_bytes + 8.0 * n));
    const double copy_packed = timer.ms([&] { CUDA_OK(cudaMemcpyAsync(d_gathered, d_words, static_cast<size_t>(packed_bytes), cudaMemcpyDeviceToDevice)); });
    report("memcpy packed words", copy_packed, 2 * packed_bytes, copy_packed);
    CUDA_OK(cudaGetLastError());

    cudaFree(scratch);
    cudaFree(in.flags);
    cudaFree(in.faces);
    cudaFree(in.codes);
    cudaFree(out.flags);
    cudaFree(out.faces);
    cudaFree(out.codes);
    cudaFree(d_words);
    cudaFree(d_gathered);
    cudaFree(d_idx);
    cudaFree(d_bad);
    if (g_failed != 0) {
        std::printf("gpu_bench: FAILED (%d checks)\n", g_failed);
        return 1;
    }
    std::printf("gpu_bench: passed\n");
    return 0;
}
