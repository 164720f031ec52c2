// Hand-written edge-case checks of the generated CUDA headers, run on the CPU.
//
// Built by crates/compiler/tests/gen_cuda.rs twice: with g++ (SCHEMAC_HD empty) and with
// `nvcc -x cu` (SCHEMAC_HD = __host__ __device__), against the headers generated from
// examples/schemas/puzzle.schema (puzzle.cuh) and everything.schema (everything_v1.cuh):
//
//   g++ -std=c++17 -Wall -Wextra -Werror -I<gen>/puzzle -I<gen>/everything cuda/tests/host_checks.cpp
//
// Covers what the pattern-driven checks do not single out: values straddling two words (and
// two bytes), 32-bit leaves, sign extension of signed leaves at their extremes, neighbouring
// bits left alone by set_*, padding zeroed by pack(), fit checks, per-field packed byte
// streams and the compact-form constants.
#include "puzzle.cuh"
#include "everything_v1.cuh"

#include <cstdio>
#include <cstring>

static int g_passed = 0;
static int g_failed = 0;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) {                                                                  \
            ++g_passed;                                                              \
        } else {                                                                     \
            ++g_failed;                                                              \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                            \
    } while (0)

// A straddling 12-bit code: AggState.codes starts at bit 989, so codes[2] occupies bits
// [1013, 1025): 11 bits in word 31 and 1 in word 32.
static void agg_state_straddle() {
    using P = puzzle::AggStatePacked;
    static_assert(P::CODES_BIT_OFFSET == 989 && P::CODES_BITS == 12, "layout as in DESIGN");
    uint32_t w[P::WORDS];
    std::memset(w, 0, sizeof w);
    P::set_codes(w, 2, 0xABC);
    CHECK(w[31] == (0xABCu & 0x7FFu) << 21);
    CHECK(w[32] == (0xABCu >> 11));
    CHECK(P::get_codes(w, 2) == 0xABC);
    CHECK(P::get_codes(w, 1) == 0 && P::get_codes(w, 3) == 0);

    // Neighbours untouched: all ones, then clear one straddling value.
    std::memset(w, 0xFF, sizeof w);
    P::set_codes(w, 2, 0);
    CHECK(w[31] == 0x001FFFFFu);
    CHECK(w[32] == 0xFFFFFFFEu);
    CHECK(P::get_codes(w, 1) == 0xFFF && P::get_codes(w, 3) == 0xFFF);
    CHECK(P::get_faces(w, 323) == 7);

    // A 3-bit face straddling words 0/1: faces start at 17, face 5 is bits [32, 35), face 4 is
    // [29, 32) and the first one that straddles is none; face 10 at [47, 50) is inside word 1.
    std::memset(w, 0, sizeof w);
    P::set_faces(w, 4, 5);
    CHECK(w[0] == (5u << 29) && w[1] == 0);
    P::set_faces(w, 5, 6);
    CHECK(w[1] == 6u);
    // AggState words 1/2 boundary: bit 64 - 17 = 47 = 15*3 + 2, so face 15 is bits [62, 65).
    P::set_faces(w, 15, 7);
    CHECK((w[1] >> 30) == 3u && (w[2] & 1u) == 1u);
    CHECK(P::get_faces(w, 15) == 7 && P::get_faces(w, 14) == 0 && P::get_faces(w, 16) == 0);

    // Flags are bools.
    P::set_flags(w, 16, true);
    CHECK((w[0] >> 16 & 1u) == 1u && P::get_flags(w, 16) && !P::get_flags(w, 15));
}

// everything.v1 Packed: neg i16[2] @bits(9) at bit 51 (neg[1] = [60, 69) straddles words 1/2),
// wide u32 @bits(32) at bit 69 (straddles words 2/3).
static void packed_signed_and_wide() {
    using P = everything_v1::PackedPacked;
    static_assert(P::NEG_BIT_OFFSET == 51 && P::NEG_BITS == 9, "layout");
    static_assert(P::WIDE_BIT_OFFSET == 69 && P::WIDE_BITS == 32, "layout");
    static_assert(P::TOTAL_BITS == 101 && P::WORDS == 4 && P::WORDS_LEN == 3 && P::TAIL_BYTES == 1, "compact form");
    uint32_t w[P::WORDS] = {0, 0, 0, 0};
    const int16_t extremes[] = {-1, -256, 255, 0, 1, -2};
    for (int16_t a : extremes) {
        for (int16_t b : extremes) {
            P::set_neg(w, 0, a);
            P::set_neg(w, 1, b);
            CHECK(P::get_neg(w, 0) == a);
            CHECK(P::get_neg(w, 1) == b);
        }
    }
    std::memset(w, 0, sizeof w);
    P::set_neg(w, 1, -1);  // code 0x1FF at [60, 69)
    CHECK(w[1] == 0xF0000000u && w[2] == 0x1Fu);
    CHECK(P::fits_neg(-256) && P::fits_neg(255) && !P::fits_neg(256) && !P::fits_neg(-257));

    const uint32_t wides[] = {0xFFFFFFFFu, 0x80000001u, 0u, 0x12345678u};
    for (uint32_t x : wides) {
        std::memset(w, 0xFF, sizeof w);
        P::set_wide(w, 0, x);
        CHECK(P::get_wide(w) == x);
        CHECK(P::get_neg(w, 1) == -1);  // the neighbour below is intact
        CHECK((w[3] >> 5) == 0x7FFFFFFu);  // and the bits above (padding here) too
    }
    CHECK(P::fits_wide(0xFFFFFFFFu));

    // Whole-row pack/unpack of the POD, including the nested component leaves.
    everything_v1::Packed s;
    std::memset(&s, 0, sizeof s);
    s.board_cells_kind[2][2] = 15;
    s.board_cells_alive[1][0] = 1;
    s.board_turn = 1;
    s.level = 31;
    s.neg[0] = -256;
    s.neg[1] = 255;
    s.wide = 0xDEADBEEFu;
    std::memset(w, 0xEE, sizeof w);
    CHECK(P::pack(s, w));
    CHECK((w[3] >> 5) == 0u);  // padding bits zeroed
    CHECK(P::get_board_cells_kind(w, 8) == 15 && P::get_board_cells_alive(w, 3) && P::get_board_turn(w) == 1);
    CHECK(P::get_level(w) == 31 && P::get_neg(w, 0) == -256 && P::get_neg(w, 1) == 255 && P::get_wide(w) == 0xDEADBEEFu);
    everything_v1::Packed back;
    std::memset(&back, 0, sizeof back);
    P::unpack(w, back);
    CHECK(std::memcmp(&back, &s, sizeof s) == 0);

    // Values that do not fit are reported by pack() (and stored as their low bits).
    s.level = 32;
    CHECK(!P::pack(s, w));
    CHECK(P::get_level(w) == 0);
    s.level = 0;
    s.neg[1] = 256;
    CHECK(!P::pack(s, w));
    s.neg[1] = 0;
    s.board_cells_alive[0][0] = 2;  // a bool leaf holding 2 is corrupt
    CHECK(!P::pack(s, w));
}

// puzzle TileState: delta i8 @bits(4) at bit 32, a 40-bit stream with a 1-byte tail.
static void tile_state_sign_extension() {
    using P = puzzle::TileStatePacked;
    static_assert(P::TOTAL_BITS == 40 && P::WORDS == 2 && P::WORDS_LEN == 1 && P::TAIL_BYTES == 1 && P::COMPACT_BYTES == 5, "compact");
    uint32_t w[P::WORDS] = {0, 0};
    for (int v = -8; v <= 7; ++v) {
        P::set_delta(w, 0, static_cast<int8_t>(v));
        CHECK(P::get_delta(w) == v);
        CHECK((w[1] & 0xFu) == (static_cast<uint32_t>(v) & 0xFu));
    }
    CHECK(P::fits_delta(-8) && P::fits_delta(7) && !P::fits_delta(8) && !P::fits_delta(-9));
    P::set_steps(w, 0, 7);
    CHECK(P::get_steps(w) == 7 && (w[1] >> 5 & 7u) == 7u);
}

// Per-field packed byte streams: everything.v1 FieldPacked (a: u8[10] @bits(3), b: i16[3]
// @bits(10)) and PuzzleState.faces.
static void field_packed_bytes() {
    using F = everything_v1::FieldPackedPackedFields;
    static_assert(F::A_BYTES == 4 && F::B_BYTES == 4 && F::B_BITS == 10, "sizes");
    static_assert(sizeof(everything_v1::FieldPacked) == 12 && offsetof(everything_v1::FieldPacked, c) == 8, "POD layout");
    everything_v1::FieldPacked s;
    std::memset(&s, 0, sizeof s);
    F::set_b(s.b, 0, -512);  // bits [0, 10): byte 0 = 0x00, byte 1 low 2 bits = 0b10
    CHECK(s.b[0] == 0x00 && s.b[1] == 0x02);
    F::set_b(s.b, 1, -1);  // bits [10, 20)
    F::set_b(s.b, 2, 511);  // bits [20, 30)
    CHECK(F::get_b(s.b, 0) == -512 && F::get_b(s.b, 1) == -1 && F::get_b(s.b, 2) == 511);
    CHECK((s.b[3] >> 6) == 0);  // padding bits of the last byte untouched (zero)
    for (uint32_t i = 0; i < F::A_COUNT; ++i) {
        F::set_a(s.a, i, static_cast<uint8_t>(7 - i % 8));
    }
    for (uint32_t i = 0; i < F::A_COUNT; ++i) {
        CHECK(F::get_a(s.a, i) == 7 - i % 8);
    }
    CHECK(F::get_b(s.b, 1) == -1);  // other leaves unaffected

    // Neighbours untouched in a byte stream.
    uint8_t bytes[4];
    std::memset(bytes, 0xFF, sizeof bytes);
    F::set_b(bytes, 1, 0);
    CHECK(bytes[0] == 0xFF && bytes[1] == 0x03 && bytes[2] == 0xF0 && bytes[3] == 0xFF);

    using G = puzzle::PuzzleStatePackedFields;
    static_assert(G::FACES_BYTES == 122 && sizeof(puzzle::PuzzleState) == 128, "PuzzleState layout");
    puzzle::PuzzleState p;
    std::memset(&p, 0, sizeof p);
    G::set_faces(p.faces, 323, 7);  // the last value: bits [969, 972) of byte 121
    CHECK(p.faces[121] == (7u << 1));
    G::set_faces(p.faces, 2, 5);  // bits [6, 9): straddles bytes 0 and 1
    CHECK(p.faces[0] == (1u << 6) && p.faces[1] == 1u);
    CHECK(G::get_faces(p.faces, 2) == 5 && G::get_faces(p.faces, 323) == 7 && G::get_faces(p.faces, 100) == 0);

    using E = everything_v1::EverythingPackedFields;
    uint8_t codes[E::PACKED_CODES_BYTES];
    std::memset(codes, 0, sizeof codes);
    E::set_packed_codes(codes, 7, 0xFFF);
    CHECK(codes[10] == 0xF0 && codes[11] == 0xFF && E::get_packed_codes(codes, 7) == 0xFFF);
}

// Enums, fingerprints and views are plain data usable from host code.
static void plain_data() {
    static_assert(sizeof(everything_v1::Mode) == 1 && static_cast<int>(everything_v1::Mode::test) == 2, "enum repr");
    static_assert(everything_v1::PACKED_FINGERPRINT != 0, "fingerprint");
    static_assert(puzzle::AggStateView::FACES_PER_ROW == 324, "per-row elements");
    uint8_t validity[2] = {0x05, 0x80};
    everything_v1::EverythingView view;
    std::memset(&view, 0, sizeof view);
    view.mask_validity = validity;
    CHECK(view.mask_is_valid(0) && !view.mask_is_valid(1) && view.mask_is_valid(2) && view.mask_is_valid(15));
    CHECK(!view.mask_is_valid(14));
}

int main() {
    agg_state_straddle();
    packed_signed_and_wide();
    tile_state_sign_extension();
    field_packed_bytes();
    plain_data();
    std::printf("host_checks: %d checks passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
