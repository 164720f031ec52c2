//! The CUDA target: snapshots of every example's header and kernels, determinism, and the
//! generated C++ compiled and run on the CPU (g++, and nvcc's host pass) against the Rust
//! runtime's bit-packing kernels and the xtructure golden vectors; the kernels compiled by
//! nvcc to PTX (validated with ptxas) and to objects for sm_80 and sm_90; the GPU benchmark
//! built and run (it skips itself without a GPU).
//!
//! nvcc comes from `SCHEMAC_NVCC`, the project venv (`scripts/setup-cuda.sh`) or PATH. Without
//! one the nvcc tests print `skipped: nvcc not found (run scripts/setup-cuda.sh)` and pass,
//! unless `SCHEMAC_REQUIRE_NVCC=1`, which turns the skip into a failure.

mod common;

use common::*;
use schemac::compile::{compile_file, compile_source};
use schemac::emit::{self, OutputFile, Target};
use schemac::ir::{self, Dtype, LeafKind};
use schemac_runtime::bits;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

// ---------------------------------------------------------------------------------------------
// Helpers.

/// Compiles an example (a path relative to the repo root) and renders its CUDA files.
fn generate(path: &Path) -> (ir::Schema, Vec<OutputFile>) {
    let compiled = in_repo(|| compile_file(path)).unwrap_or_else(|f| panic!("{}", f.render(false)));
    let files = emit::emit(Target::Cuda, &compiled.schema).unwrap();
    (compiled.schema, files)
}

fn stem(path: &Path) -> String {
    path.file_stem().unwrap().to_str().unwrap().to_string()
}

/// Writes every example's generated files into `<dir>/<example stem>/`; returns
/// (stem, schema, header file name, kernels file name) per example.
fn write_examples(dir: &Path) -> Vec<(String, ir::Schema, String, String)> {
    examples()
        .iter()
        .map(|p| {
            let (schema, files) = generate(p);
            let out = dir.join(stem(p));
            std::fs::create_dir_all(&out).unwrap();
            for f in &files {
                std::fs::write(out.join(&f.path), &f.contents).unwrap();
            }
            // The headers of its imports go beside it (`#include "common.cuh"`).
            let closure = in_repo(|| schemac::compile::compile_closure(p))
                .ok()
                .unwrap();
            for (_, c) in closure.iter().skip(1) {
                for f in emit::emit(Target::Cuda, &c.schema).unwrap() {
                    std::fs::write(out.join(&f.path), &f.contents).unwrap();
                }
            }
            let name = |suffix: &str| {
                files
                    .iter()
                    .map(|f| f.path.to_str().unwrap().to_string())
                    .find(|n| n.ends_with(suffix))
                    .unwrap()
            };
            (stem(p), schema, name(".cuh"), name("_kernels.cu"))
        })
        .collect()
}

/// Prints a line that `cargo test` does not capture, so skips are visible in CI logs.
fn notice(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

fn runs(cmd: &Path) -> bool {
    Command::new(cmd)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn gxx() -> Option<PathBuf> {
    let cxx = PathBuf::from(std::env::var("CXX").unwrap_or_else(|_| "g++".into()));
    if runs(&cxx) {
        Some(cxx)
    } else {
        notice("skipped: no C++ compiler (g++ or $CXX) found");
        None
    }
}

/// nvcc from SCHEMAC_NVCC, the project venv, or PATH.
fn nvcc() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Ok(p) = std::env::var("SCHEMAC_NVCC") {
        candidates.push(PathBuf::from(p));
    }
    if let Ok(entries) = std::fs::read_dir(repo().join(".venv/lib")) {
        let mut pys: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        pys.sort();
        for py in pys {
            candidates.push(py.join("site-packages/nvidia/cu13/bin/nvcc"));
        }
    }
    candidates.push(PathBuf::from("nvcc"));
    let found = candidates.into_iter().find(|c| runs(c));
    if found.is_none() {
        assert!(
            std::env::var("SCHEMAC_REQUIRE_NVCC").as_deref() != Ok("1"),
            "SCHEMAC_REQUIRE_NVCC=1 but no nvcc found (run scripts/setup-cuda.sh)"
        );
        notice("skipped: nvcc not found (run scripts/setup-cuda.sh)");
    }
    found
}

/// ptxas next to nvcc (or on PATH).
fn ptxas(nvcc: &Path) -> PathBuf {
    match nvcc.parent() {
        Some(dir) if dir.join("ptxas").exists() => dir.join("ptxas"),
        _ => PathBuf::from("ptxas"),
    }
}

/// Runs a command, panicking with its output when it fails; returns stdout.
fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn nvcc_cmd(nvcc: &Path) -> Command {
    let mut c = Command::new(nvcc);
    // nvcc finds cicc/ptxas through its nvcc.profile; keep its bin first on PATH anyway.
    if let Some(dir) = nvcc.parent().filter(|d| !d.as_os_str().is_empty()) {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![dir.to_path_buf()];
        paths.extend(std::env::split_paths(&path));
        c.env("PATH", std::env::join_paths(paths).unwrap());
    }
    c.args(["-std=c++17", "-Werror", "all-warnings"]);
    c
}

const GXX_FLAGS: [&str; 5] = ["-std=c++17", "-Wall", "-Wextra", "-Werror", "-pedantic"];

// ---------------------------------------------------------------------------------------------
// Snapshots and determinism.

#[test]
fn snapshots_of_every_example() {
    for path in examples() {
        let (_, files) = generate(&path);
        assert_eq!(
            files.len(),
            2,
            "{}: a header and a kernel file",
            path.display()
        );
        let s = stem(&path);
        snapshots("cuda").bind(|| {
            for f in &files {
                let kind = if f.path.extension().is_some_and(|e| e == "cuh") {
                    "header"
                } else {
                    "kernels"
                };
                insta::assert_snapshot!(format!("{s}.{kind}"), f.contents);
            }
        });
    }
}

#[test]
fn output_is_deterministic_and_marked_generated() {
    for path in examples() {
        let (schema, a) = generate(&path);
        let (_, b) = generate(&path);
        assert_eq!(a, b, "{}: two runs differ", path.display());
        let again = emit::emit(Target::Cuda, &schema).unwrap();
        assert_eq!(a, again);
        let names: Vec<_> = a
            .iter()
            .map(|f| f.path.to_str().unwrap().to_string())
            .collect();
        assert_eq!(
            names,
            [
                format!("{}.cuh", schema.module),
                format!("{}_kernels.cu", schema.module)
            ]
        );
        for f in &a {
            let first = f.contents.lines().next().unwrap();
            assert_eq!(
                first,
                format!("// {}", emit::generated_header(&schema)),
                "{}",
                f.path.display()
            );
            assert!(first.contains(&format!("from {}.", path.display())));
            assert!(f.contents.ends_with('\n') && !f.contents.ends_with("\n\n"));
            assert!(
                !f.contents.contains(" \n"),
                "trailing spaces in {}",
                f.path.display()
            );
        }
    }
}

#[test]
fn header_has_the_required_pieces() {
    let (_, files) = generate(Path::new("examples/schemas/puzzle.schema"));
    let h = &files[0].contents;
    for needle in [
        "#pragma once",
        "#include <cstdint>",
        "#define SCHEMAC_HD __host__ __device__",
        "namespace puzzle {",
        "struct AggState {",
        "static_assert(sizeof(AggState) == 352",
        "struct AggStateView {",
        "uint8_t* __restrict__ faces;",
        "int64_t n;",
        "struct AggStatePacked {",
        "static constexpr uint32_t TOTAL_BITS = 1049;",
        "static constexpr uint32_t FACES_BIT_OFFSET = 17;",
        "static SCHEMAC_HD inline uint8_t get_faces(const uint32_t* words, uint32_t i = 0)",
        "static SCHEMAC_HD inline void set_faces(uint32_t* words, uint32_t i, uint8_t v)",
        "struct PuzzleStatePackedFields {",
        "cudaError_t puzzle_agg_state_pack(const puzzle::AggStateView* view, uint32_t* words, int64_t n, cudaStream_t stream);",
    ] {
        assert!(h.contains(needle), "header lacks `{needle}`");
    }
    let k = &files[1].contents;
    for needle in [
        "#include \"puzzle.cuh\"",
        "__global__ void agg_state_pack_kernel(",
        "__global__ void agg_state_unpack_kernel(",
        "__global__ void agg_state_unpack_faces_kernel(",
        "__global__ void agg_state_gather_kernel(",
        "__global__ void agg_state_kernel_skeleton(AggStateView batch)",
        "__global__ void agg_state_packed_kernel_skeleton(",
        "// YOUR CODE HERE",
        "extern \"C\" {",
        "cudaError_t puzzle_agg_state_unpack(",
    ] {
        assert!(k.contains(needle), "kernels lack `{needle}`");
    }
}

#[test]
fn clashing_names_are_emit_errors() {
    let src = "sample S {\n    total: u8 @bits(3),\n    x: u8 @bits(2),\n}\n";
    let compiled = compile_source(Path::new("clash.schema"), src.to_string())
        .ok()
        .expect("the schema is valid");
    let err = emit::emit(Target::Cuda, &compiled.schema).unwrap_err();
    assert!(err.to_string().contains("TOTAL_BITS"), "{err}");

    let src = "sample S {\n    row: u8,\n    batch: u8,\n    class: u8,\n}\n";
    let compiled = compile_source(Path::new("kw.schema"), src.to_string())
        .ok()
        .unwrap();
    let files = emit::emit(Target::Cuda, &compiled.schema).unwrap();
    assert!(files[0].contents.contains("uint8_t class_;"));
    assert!(files[1].contents.contains("SView batch_)"));
    assert!(files[1].contents.contains("for (int64_t row_ = "));
}

// ---------------------------------------------------------------------------------------------
// Host drivers: the headers on the CPU against the Rust runtime.

/// The xtructure pattern as a stored code: value k of a leaf has code k % 2^bits (bool: k odd).
fn pattern_code(k: u64, bits: u32) -> u64 {
    k % (1u64 << bits)
}

/// The C++ name of a leaf (the emitter joins path segments with `_`; no example uses a
/// C++ keyword).
fn cname(l: &ir::Leaf) -> String {
    l.segments.join("_")
}

fn dtype_of(l: &ir::Leaf) -> Dtype {
    match &l.kind {
        LeafKind::Numeric { dtype } => *dtype,
        other => panic!("{} is not numeric: {other:?}", l.path),
    }
}

/// The leaf's pattern packed by the Rust runtime at `offset` into `words`.
fn rust_pack_leaf(l: &ir::Leaf, words: &mut [u32], offset: u64) {
    let bits = l.bits.unwrap();
    let n = l.elements.unwrap();
    let codes: Vec<u64> = (0..n).map(|k| pattern_code(k, bits)).collect();
    let d = dtype_of(l);
    if d == Dtype::Bool {
        let v: Vec<bool> = codes.iter().map(|&c| c == 1).collect();
        bits::pack_into(&v, bits, words, offset).unwrap();
    } else if d.is_signed() {
        let v: Vec<i64> = codes
            .iter()
            .map(|&c| ((c << (64 - bits)) as i64) >> (64 - bits))
            .collect();
        bits::pack_into(&v, bits, words, offset).unwrap();
    } else {
        bits::pack_into(&codes, bits, words, offset).unwrap();
    }
}

/// The leaf's pattern as a per-field packed byte stream, by the Rust runtime.
fn rust_pack_leaf_bytes(l: &ir::Leaf) -> Vec<u8> {
    let bits = l.bits.unwrap();
    let words_len = bits::words_for(l.elements.unwrap() as usize, bits);
    let mut words = vec![0u32; words_len];
    rust_pack_leaf(l, &mut words, 0);
    let bytes = bits::bytes_for(l.elements.unwrap() as usize, bits);
    let out: Vec<u8> = words
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .take(bytes)
        .collect();
    // Cross-check against the runtime's own byte-stream packer.
    if dtype_of(l).is_signed() {
        let v: Vec<i64> = (0..l.elements.unwrap())
            .map(|k| {
                let c = pattern_code(k, bits);
                ((c << (64 - bits)) as i64) >> (64 - bits)
            })
            .collect();
        assert_eq!(bits::pack_bytes(&v, bits).unwrap(), out);
    }
    out
}

fn c_array<T: std::fmt::Display>(ty: &str, name: &str, vals: &[T], hex: bool) -> String {
    let body: Vec<String> = vals
        .iter()
        .map(|v| {
            if hex {
                format!("0x{v}u")
            } else {
                format!("{v}u")
            }
        })
        .collect();
    format!("static const {ty} {name}[] = {{{}}};\n", body.join(", "))
}

const DRIVER_PRELUDE: &str = r#"#include <cstdio>
#include <cstring>
#include <type_traits>

static int g_passed = 0, g_failed = 0;
#define CHECK(cond) do { if (cond) { ++g_passed; } else { ++g_failed; std::fprintf(stderr, "line %d: check failed: %s\n", __LINE__, #cond); } } while (0)

// The xtructure pattern: value k of a leaf is k % 2^bits as a stored code, sign-extended for
// signed types (bool: k odd).
template <typename T>
static T pat(uint32_t k, uint32_t bits) {
    const uint64_t code = k % (uint64_t(1) << bits);
    int64_t v = static_cast<int64_t>(code);
    if (std::is_signed<T>::value && ((code >> (bits - 1)) & 1u)) v -= static_cast<int64_t>(uint64_t(1) << bits);
    return static_cast<T>(v);
}
template <typename A> using elem_t = typename std::remove_cv<typename std::remove_all_extents<A>::type>::type;
"#;

/// A C++ driver checking every packed record of `schema`: pack() of the POD and set_* on
/// zeroed words both equal the Rust runtime's words; get_* and unpack() give the values back;
/// per-field packed leaves equal the runtime's byte streams.
fn pattern_driver(schema: &ir::Schema, header: &str) -> (String, usize) {
    let ns = &schema.module;
    let mut d = format!("#include \"{header}\"\n{DRIVER_PRELUDE}\nint main() {{\n");
    let mut cases = 0;
    for r in &schema.records {
        if let Some(agg) = &r.bitpack.aggregate {
            cases += 1;
            let mut expected = vec![0u32; agg.words as usize];
            for l in &r.leaves {
                rust_pack_leaf(l, &mut expected, l.bit_offset.unwrap());
            }
            let hex: Vec<String> = expected.iter().map(|w| format!("{w:08x}")).collect();
            let p = format!("{ns}::{}Packed", r.name);
            writeln!(d, "    {{  // {} {}", r.name, agg.total_bits).unwrap();
            d.push_str(&format!(
                "        {}",
                c_array("uint32_t", "expected", &hex, true)
            ));
            writeln!(
                d,
                "        static_assert({p}::WORDS == {} && {p}::TOTAL_BITS == {} && {p}::WORDS_LEN == {} && {p}::TAIL_BYTES == {}, \"sizes\");",
                agg.words, agg.total_bits, agg.words_len, agg.tail_bytes
            )
            .unwrap();
            writeln!(
                d,
                "        {ns}::{} s; std::memset(&s, 0, sizeof s);",
                r.name
            )
            .unwrap();
            writeln!(
                d,
                "        uint32_t w1[{p}::WORDS]; std::memset(w1, 0xA5, sizeof w1);"
            )
            .unwrap();
            writeln!(
                d,
                "        uint32_t w2[{p}::WORDS]; std::memset(w2, 0, sizeof w2);"
            )
            .unwrap();
            for l in &r.leaves {
                let c = cname(l);
                let bits = l.bits.unwrap();
                let n = l.elements.unwrap();
                let first = if l.shape.is_empty() {
                    format!("&s.{c}")
                } else {
                    format!("&s.{c}{}", "[0]".repeat(l.shape.len()))
                };
                writeln!(
                    d,
                    "        {{ using T = elem_t<decltype(s.{c})>; T* v = {first};\n          for (uint32_t k = 0; k < {n}u; ++k) {{ v[k] = pat<T>(k, {bits}); {p}::set_{c}(w2, k, pat<T>(k, {bits})); }} }}"
                )
                .unwrap();
            }
            writeln!(d, "        CHECK({p}::pack(s, w1));").unwrap();
            writeln!(
                d,
                "        CHECK(std::memcmp(w1, expected, sizeof expected) == 0);"
            )
            .unwrap();
            writeln!(
                d,
                "        CHECK(std::memcmp(w2, expected, sizeof expected) == 0);"
            )
            .unwrap();
            writeln!(
                d,
                "        for (uint32_t i = 0; i < {p}::WORDS; ++i) if (w1[i] != expected[i]) std::fprintf(stderr, \"{} word %u: %08x != %08x\\n\", i, w1[i], expected[i]);",
                r.name
            )
            .unwrap();
            for l in &r.leaves {
                let c = cname(l);
                let bits = l.bits.unwrap();
                let n = l.elements.unwrap();
                writeln!(
                    d,
                    "        {{ using T = elem_t<decltype(s.{c})>; bool ok = true;\n          for (uint32_t k = 0; k < {n}u; ++k) ok = ok && static_cast<T>({p}::get_{c}(expected, k)) == pat<T>(k, {bits}) && {p}::fits_{c}(pat<T>(k, {bits}));\n          CHECK(ok); }}"
                )
                .unwrap();
            }
            writeln!(
                d,
                "        {ns}::{} back; std::memset(&back, 0, sizeof back); {p}::unpack(expected, back);\n        CHECK(std::memcmp(&back, &s, sizeof s) == 0);\n    }}",
                r.name
            )
            .unwrap();
            if r.kind == ir::RecordKind::Sample {
                cases += 1;
                kernel_emulation(&mut d, ns, r);
            }
        }
        let packed_fields: Vec<&ir::Leaf> = r.leaves.iter().filter(|l| l.packed_field).collect();
        if !packed_fields.is_empty() {
            let f = format!("{ns}::{}PackedFields", r.name);
            for l in packed_fields {
                cases += 1;
                let c = cname(l);
                let up = c.to_ascii_uppercase();
                let bits = l.bits.unwrap();
                let n = l.elements.unwrap();
                let bytes = rust_pack_leaf_bytes(l);
                let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
                let ty = match dtype_of(l) {
                    Dtype::Bool => "uint8_t".to_string(),
                    dt => format!(
                        "{}int{}_t",
                        if dt.is_signed() { "" } else { "u" },
                        dt.size() * 8
                    ),
                };
                writeln!(d, "    {{  // {}.{} @packed", r.name, l.path).unwrap();
                d.push_str(&format!(
                    "        {}",
                    c_array("uint8_t", "expected", &hex, true)
                ));
                writeln!(
                    d,
                    "        static_assert({f}::{up}_BYTES == {}, \"bytes\");\n        uint8_t b[{f}::{up}_BYTES]; std::memset(b, 0, sizeof b);\n        for (uint32_t k = 0; k < {n}u; ++k) {f}::set_{c}(b, k, pat<{ty}>(k, {bits}));\n        CHECK(std::memcmp(b, expected, sizeof expected) == 0);\n        bool ok = true;\n        for (uint32_t k = 0; k < {n}u; ++k) ok = ok && static_cast<{ty}>({f}::get_{c}(expected, k)) == pat<{ty}>(k, {bits});\n        CHECK(ok);\n    }}",
                    bytes.len()
                )
                .unwrap();
            }
        }
    }
    d.push_str(
        "    std::printf(\"pattern driver: %d checks passed, %d failed\\n\", g_passed, g_failed);\n    return g_failed == 0 ? 0 : 1;\n}\n",
    );
    (d, cases)
}

/// Runs the pack and unpack kernels' per-word bodies (`View::packed_word`/`unpack_word`,
/// one call per thread) on the CPU over a few rows, and compares with the row-wise `pack()`
/// and the input columns: the device code paths, checked without a GPU.
fn kernel_emulation(d: &mut String, ns: &str, r: &ir::Record) {
    let p = format!("{ns}::{}Packed", r.name);
    let v = format!("{ns}::{}View", r.name);
    writeln!(d, "    {{  // {} kernels, emulated", r.name).unwrap();
    writeln!(
        d,
        "        constexpr int64_t R = 5; constexpr int64_t W = {p}::WORDS;\n        {ns}::{} pods[R]; std::memset(pods, 0, sizeof pods);\n        {v} in; std::memset(&in, 0, sizeof in); in.n = R;\n        {v} out = in;",
        r.name
    )
    .unwrap();
    for l in &r.leaves {
        let c = cname(l);
        let n = l.elements.unwrap();
        let bits = l.bits.unwrap();
        let first = if l.shape.is_empty() {
            format!("&pods[r].{c}")
        } else {
            format!("&pods[r].{c}{}", "[0]".repeat(l.shape.len()))
        };
        writeln!(
            d,
            "        using T_{c} = elem_t<decltype(pods[0].{c})>;\n        static T_{c} in_{c}[R * {n}], out_{c}[R * {n}]; in.{c} = in_{c}; out.{c} = out_{c};\n        for (int64_t r = 0; r < R; ++r) for (uint32_t k = 0; k < {n}u; ++k) {{ in_{c}[r * {n} + k] = pat<T_{c}>(k + 5u * static_cast<uint32_t>(r), {bits}); ({first})[k] = in_{c}[r * {n} + k]; }}"
        )
        .unwrap();
    }
    writeln!(
        d,
        "        uint32_t words[R * W]; bool ok = true;\n        for (int64_t t = 0; t < R * W; ++t) words[t] = in.packed_word(t / W, static_cast<uint32_t>(t % W), ok);\n        CHECK(ok);\n        for (int64_t r = 0; r < R; ++r) {{ uint32_t ref[W]; {p}::pack(pods[r], ref); CHECK(std::memcmp(ref, words + r * W, sizeof ref) == 0); }}\n        for (int64_t t = R * W - 1; t >= 0; --t) out.unpack_word(words + (t / W) * W, t / W, static_cast<uint32_t>(t % W));"
    )
    .unwrap();
    for l in &r.leaves {
        let c = cname(l);
        writeln!(
            d,
            "        CHECK(std::memcmp(in_{c}, out_{c}, sizeof in_{c}) == 0);"
        )
        .unwrap();
    }
    d.push_str("    }\n");
}

/// A driver checking puzzle.cuh against the words and bytes xtructure itself produced.
fn xtructure_driver() -> String {
    let text =
        std::fs::read_to_string(repo().join("crates/runtime/tests/data/xtructure.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let case = |name: &str| {
        json["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"].as_str().unwrap().starts_with(name))
            .unwrap()
            .clone()
    };
    let words = |c: &serde_json::Value| -> Vec<String> {
        c["words_u32_hex"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap().to_string())
            .collect()
    };
    let agg = case("AggState");
    let agg5 = case("Agg5");
    let puzzle = case("PuzzleState");
    let packed_hex = puzzle["packed_hex"].as_str().unwrap();
    // schemac keeps the minimal 122 bytes, the first 122 of xtructure's 123.
    let bytes: Vec<String> = (0..122)
        .map(|i| packed_hex[2 * i..2 * i + 2].to_string())
        .collect();
    let mut d = format!("#include \"puzzle.cuh\"\n{DRIVER_PRELUDE}\nint main() {{\n");
    d.push_str(&c_array("uint32_t", "agg_state", &words(&agg), true));
    d.push_str(&c_array("uint32_t", "agg5", &words(&agg5), true));
    d.push_str(&c_array("uint8_t", "faces", &bytes, true));
    d.push_str(
        r#"    using P = puzzle::AggStatePacked;
    static_assert(sizeof(agg_state) == sizeof(uint32_t) * P::WORDS, "33 words");
    puzzle::AggState s; std::memset(&s, 0, sizeof s);
    for (uint32_t k = 0; k < 17; ++k) s.flags[k] = k & 1u;
    for (uint32_t k = 0; k < 324; ++k) (&s.faces[0][0])[k] = k % 8u;
    for (uint32_t k = 0; k < 5; ++k) s.codes[k] = k % 4096u;
    uint32_t w[P::WORDS];
    CHECK(P::pack(s, w));
    CHECK(std::memcmp(w, agg_state, sizeof w) == 0);
    uint32_t w2[P::WORDS]; std::memset(w2, 0, sizeof w2);
    for (uint32_t k = 0; k < 17; ++k) P::set_flags(w2, k, (k & 1u) != 0);
    for (uint32_t k = 0; k < 324; ++k) P::set_faces(w2, k, k % 8u);
    for (uint32_t k = 0; k < 5; ++k) P::set_codes(w2, k, k % 4096u);
    CHECK(std::memcmp(w2, agg_state, sizeof w2) == 0);
    bool ok = true;
    for (uint32_t k = 0; k < 324; ++k) ok = ok && P::get_faces(agg_state, k) == k % 8u;
    for (uint32_t k = 0; k < 17; ++k) ok = ok && P::get_flags(agg_state, k) == ((k & 1u) != 0);
    for (uint32_t k = 0; k < 5; ++k) ok = ok && P::get_codes(agg_state, k) == k;
    CHECK(ok);

    using Q = puzzle::Agg5Packed;
    puzzle::Agg5 a; for (uint32_t k = 0; k < 10; ++k) a.v[k] = static_cast<uint8_t>(k);
    uint32_t aw[Q::WORDS];
    CHECK(Q::pack(a, aw));
    CHECK(std::memcmp(aw, agg5, sizeof aw) == 0);

    using F = puzzle::PuzzleStatePackedFields;
    puzzle::PuzzleState ps; std::memset(&ps, 0, sizeof ps);
    for (uint32_t k = 0; k < 324; ++k) F::set_faces(ps.faces, k, k % 8u);
    CHECK(std::memcmp(ps.faces, faces, sizeof faces) == 0);
    ok = true;
    for (uint32_t k = 0; k < 324; ++k) ok = ok && F::get_faces(faces, k) == k % 8u;
    CHECK(ok);
    std::printf("xtructure driver: %d checks passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
"#,
    );
    d
}

/// Every host driver: (name, source file, -I dirs).
fn host_drivers(gen: &Path) -> Vec<(String, PathBuf, Vec<PathBuf>)> {
    let mut drivers = Vec::new();
    for (s, schema, header, _) in write_examples(gen) {
        let (src, cases) = pattern_driver(&schema, &header);
        let file = gen.join(format!("pattern_{s}.cpp"));
        std::fs::write(&file, src).unwrap();
        let _ = cases;
        drivers.push((format!("pattern_{s}"), file, vec![gen.join(&s)]));
    }
    let file = gen.join("xtructure.cpp");
    std::fs::write(&file, xtructure_driver()).unwrap();
    drivers.push(("xtructure".into(), file, vec![gen.join("puzzle")]));
    drivers.push((
        "host_checks".into(),
        repo().join("cuda/tests/host_checks.cpp"),
        vec![gen.join("puzzle"), gen.join("everything")],
    ));
    drivers
}

#[test]
fn pattern_drivers_cover_every_packed_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut total = 0;
    for (_, schema, header, _) in write_examples(dir.path()) {
        total += pattern_driver(&schema, &header).1;
    }
    // puzzle: AggState, Agg5, TileState + PuzzleState.faces; everything: Cell, Board, Packed +
    // Everything.packed_codes, FieldPacked.a, FieldPacked.b.
    // Each aggregate sample also gets its kernels emulated: AggState, Agg5, TileState, Packed.
    assert_eq!(total, 14);
}

#[test]
fn headers_compile_and_run_with_gxx() {
    let Some(cxx) = gxx() else { return };
    let dir = tempfile::tempdir().unwrap();
    let gen = dir.path();
    for (name, src, includes) in host_drivers(gen) {
        let exe = gen.join(format!("{name}.gxx"));
        let mut c = Command::new(&cxx);
        c.args(GXX_FLAGS);
        for i in &includes {
            c.arg("-I").arg(i);
        }
        c.arg(&src).arg("-o").arg(&exe);
        run(&mut c);
        let out = run(&mut Command::new(&exe));
        assert!(out.contains(" 0 failed"), "{name}: {out}");
    }
    // Every header on its own (the drivers above include only some), also as C++20.
    for s in ["common", "robot", "vision", "everything", "puzzle"] {
        let header = std::fs::read_dir(gen.join(s))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "cuh"))
            .unwrap();
        let tu = gen.join(format!("only_{s}.cpp"));
        std::fs::write(
            &tu,
            format!(
                "#include \"{}\"\nint main() {{ return 0; }}\n",
                header.display()
            ),
        )
        .unwrap();
        for std in ["-std=c++17", "-std=c++20"] {
            run(Command::new(&cxx)
                .args(&GXX_FLAGS[1..])
                .arg(std)
                .arg("-fsyntax-only")
                .arg(&tu));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// nvcc: PTX for sm_80 and sm_90 validated by ptxas, objects, the host pass, the GPU benchmark.

#[test]
fn kernels_compile_with_nvcc() {
    let Some(nvcc) = nvcc() else { return };
    let dir = tempfile::tempdir().unwrap();
    let gen = dir.path();
    for (s, schema, _, kernels) in write_examples(gen) {
        let src = gen.join(&s).join(&kernels);
        for arch in ["sm_80", "sm_90"] {
            let ptx = gen.join(format!("{s}_{arch}.ptx"));
            run(nvcc_cmd(&nvcc)
                .arg(format!("-arch={arch}"))
                .arg("-ptx")
                .arg(&src)
                .arg("-o")
                .arg(&ptx));
            run(Command::new(ptxas(&nvcc))
                .arg(format!("-arch={arch}"))
                .arg(&ptx)
                .arg("-o")
                .arg("/dev/null"));
            let text = std::fs::read_to_string(&ptx).unwrap();
            let kernels_in_ptx = text.matches(".entry").count();
            // A kernel skeleton per sample; per aggregate sample also a packed skeleton, pack,
            // pack_checked, unpack, gather and one unpack per leaf.
            let expected: usize = schema
                .samples()
                .map(|r| match &r.bitpack.aggregate {
                    Some(_) => 2 + 4 + r.leaves.len(),
                    None => 1,
                })
                .sum();
            assert_eq!(kernels_in_ptx, expected, "{s}: kernels in the PTX");
        }
        let obj = gen.join(format!("{s}.o"));
        run(nvcc_cmd(&nvcc)
            .args(["-arch=sm_80", "-c"])
            .arg(&src)
            .arg("-o")
            .arg(&obj));
        assert!(std::fs::metadata(&obj).unwrap().len() > 0);
    }
}

#[test]
fn launchers_are_unmangled_extern_c_symbols() {
    let Some(nvcc) = nvcc() else { return };
    let dir = tempfile::tempdir().unwrap();
    let gen = dir.path();
    write_examples(gen);
    let obj = gen.join("puzzle.o");
    run(nvcc_cmd(&nvcc)
        .args(["-arch=sm_80", "-c"])
        .arg(gen.join("puzzle/puzzle_kernels.cu"))
        .arg("-o")
        .arg(&obj));
    let Ok(out) = Command::new("nm").arg("-g").arg(&obj).output() else {
        notice("skipped: nm not found");
        return;
    };
    let syms = String::from_utf8_lossy(&out.stdout);
    for s in [
        "puzzle_agg_state_pack",
        "puzzle_agg_state_pack_checked",
        "puzzle_agg_state_unpack",
        "puzzle_agg_state_unpack_faces",
        "puzzle_agg_state_gather",
        "puzzle_agg5_pack",
        "puzzle_tile_state_unpack_delta",
    ] {
        assert!(
            syms.lines().any(|l| l.ends_with(&format!(" T {s}"))),
            "no symbol {s} in:\n{syms}"
        );
    }
}

#[test]
fn host_drivers_run_under_nvcc() {
    let Some(nvcc) = nvcc() else { return };
    let dir = tempfile::tempdir().unwrap();
    let gen = dir.path();
    for (name, src, includes) in host_drivers(gen) {
        let exe = gen.join(format!("{name}.nvcc"));
        let mut c = nvcc_cmd(&nvcc);
        c.args(["-arch=sm_80", "-x", "cu"]);
        for i in &includes {
            c.arg("-I").arg(i);
        }
        c.arg(&src).arg("-o").arg(&exe);
        run(&mut c);
        let out = run(&mut Command::new(&exe));
        assert!(out.contains(" 0 failed"), "{name}: {out}");
    }
}

#[test]
fn gpu_bench_builds_and_runs_or_skips() {
    let Some(nvcc) = nvcc() else { return };
    let dir = tempfile::tempdir().unwrap();
    let gen = dir.path();
    write_examples(gen);
    let exe = gen.join("gpu_bench");
    run(nvcc_cmd(&nvcc)
        .args([
            "-O3",
            "-gencode",
            "arch=compute_80,code=sm_80",
            "-gencode",
            "arch=compute_90,code=[sm_90,compute_90]",
            "-I",
        ])
        .arg(gen.join("puzzle"))
        .arg(repo().join("cuda/tests/gpu_bench.cu"))
        .arg(gen.join("puzzle/puzzle_kernels.cu"))
        .arg("-o")
        .arg(&exe));
    // A small batch: on a machine with a GPU this checks the kernels against the host
    // reference; without one the program says it skipped.
    let out = run(Command::new(&exe).arg("100003"));
    if out.contains("skipped") {
        notice(out.trim());
    } else {
        assert!(out.contains("gpu_bench: passed"), "{out}");
    }
}

/// The FFI route of cuda/README.md: the kernels built by nvcc into a static library, linked
/// into a Rust program (with the static CUDA runtime) that declares the view as `#[repr(C)]`
/// and calls the `extern "C"` launchers. Argument errors come back without touching a GPU;
/// a real launch returns success on a GPU machine and a CUDA error code elsewhere.
#[test]
fn rust_ffi_links_and_calls_launchers() {
    let Some(nvcc) = nvcc() else { return };
    let dir = tempfile::tempdir().unwrap();
    let gen = dir.path();
    write_examples(gen);
    let obj = gen.join("puzzle_kernels.o");
    run(nvcc_cmd(&nvcc)
        .args(["-arch=sm_80", "-Xcompiler", "-fPIC", "-c"])
        .arg(gen.join("puzzle/puzzle_kernels.cu"))
        .arg("-o")
        .arg(&obj));
    let lib = gen.join("libpuzzle_kernels.a");
    let Ok(status) = Command::new("ar").arg("rcs").arg(&lib).arg(&obj).status() else {
        notice("skipped: ar not found");
        return;
    };
    assert!(status.success());
    let cuda_lib = nvcc
        .parent()
        .and_then(|b| b.parent())
        .map(|h| h.join("lib"));
    let Some(cuda_lib) = cuda_lib.filter(|l| l.join("libcudart_static.a").exists()) else {
        notice("skipped: libcudart_static.a not found next to nvcc");
        return;
    };
    let main = gen.join("ffi.rs");
    std::fs::write(
        &main,
        r#"
use std::ffi::c_void;
#[repr(C)]
struct AggStateView { flags: *mut u8, faces: *mut u8, codes: *mut u16, n: i64 }
type CudaError = i32; // cudaError_t
extern "C" {
    fn puzzle_agg_state_pack(view: *const AggStateView, words: *mut u32, n: i64, stream: *mut c_void) -> CudaError;
    fn puzzle_agg_state_gather(words: *const u32, n_in: i64, indices: *const i64, out: *mut u32, n_out: i64, stream: *mut c_void) -> CudaError;
}
fn main() {
    let view = AggStateView { flags: std::ptr::null_mut(), faces: std::ptr::null_mut(), codes: std::ptr::null_mut(), n: 4 };
    let mut words = [0u32; 33];
    unsafe {
        assert_eq!(puzzle_agg_state_pack(std::ptr::null(), words.as_mut_ptr(), 1, std::ptr::null_mut()), 1, "null view");
        assert_eq!(puzzle_agg_state_pack(&view, words.as_mut_ptr(), 5, std::ptr::null_mut()), 1, "n > view.n");
        assert_eq!(puzzle_agg_state_pack(&view, words.as_mut_ptr(), 0, std::ptr::null_mut()), 0, "empty batch");
        assert_eq!(puzzle_agg_state_gather(words.as_ptr(), 1, std::ptr::null(), words.as_mut_ptr(), 1, std::ptr::null_mut()), 1);
        // A real launch (host pointers: only its return code matters here).
        let rc = puzzle_agg_state_pack(&view, words.as_mut_ptr(), 4, std::ptr::null_mut());
        println!("ffi: launch returned cudaError_t {rc}");
    }
    println!("ffi: ok");
}
"#,
    )
    .unwrap();
    let exe = gen.join("ffi");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    run(Command::new(rustc)
        .args(["--edition", "2021", "-O"])
        .arg(&main)
        .arg("-o")
        .arg(&exe)
        .arg("-L")
        .arg(format!("native={}", gen.display()))
        .arg("-L")
        .arg(format!("native={}", cuda_lib.display()))
        .args([
            "-l",
            "static=puzzle_kernels",
            "-l",
            "static=cudart_static",
            "-l",
            "dylib=stdc++",
            "-l",
            "dylib=dl",
            "-l",
            "dylib=rt",
            "-l",
            "dylib=pthread",
        ]));
    let out = run(&mut Command::new(&exe));
    assert!(out.contains("ffi: ok"), "{out}");
}

/// Corners no example reaches: 32-bit codes in 64-bit dtypes, 1-bit signed values, 8- and
/// 16-bit codes filling their dtype, an enum, an optional leaf and f16/f64 in a POD struct, a
/// C++ keyword as a field name, bool and 32-bit per-field packed leaves.
const EDGE_SCHEMA: &str = r#"package edge.cases;

enum Color { red, green, blue }

sample Wide {
    a: i64 @bits(32),
    b: u64[3] @bits(32),
    c: i32[5] @bits(1),
    d: bool @bits(1),
    e: i8[7] @bits(8),
    f: u16[3] @bits(16),
}

sample Plain {
    color: Color = green,
    maybe: f32[3]?,
    class: u8,
    h: f16,
    d: f64,
}

@bitpack(field)
sample FieldEdge {
    x: bool[9] @bits(1),
    y: i32[3] @bits(32),
    z: u8[2] @bits(8),
}
"#;

const EDGE_CHECKS: &str = r#"
    {
        using P = edge_cases::WidePacked;
        static_assert(P::TOTAL_BITS == 32 + 96 + 5 + 1 + 56 + 48, "total bits");
        uint32_t w[P::WORDS]; std::memset(w, 0, sizeof w);
        P::set_a(w, 0, -1); CHECK(P::get_a(w) == -1); CHECK(w[0] == 0xFFFFFFFFu);
        P::set_a(w, 0, INT32_MIN); CHECK(P::get_a(w) == INT32_MIN);
        CHECK(P::fits_a(INT32_MIN) && !P::fits_a(int64_t(INT32_MAX) + 1) && !P::fits_a(int64_t(INT32_MIN) - 1));
        P::set_b(w, 2, 0xFFFFFFFFull); CHECK(P::get_b(w, 2) == 0xFFFFFFFFull);
        CHECK(P::fits_b(0xFFFFFFFFull) && !P::fits_b(0x100000000ull));
        for (uint32_t k = 0; k < 5; ++k) { P::set_c(w, k, -1); CHECK(P::get_c(w, k) == -1); }
        CHECK(P::fits_c(-1) && P::fits_c(0) && !P::fits_c(1));
        P::set_e(w, 6, -128); CHECK(P::get_e(w, 6) == -128);
        P::set_f(w, 1, 0xFFFF); CHECK(P::get_f(w, 1) == 0xFFFF);
        CHECK(P::get_b(w, 2) == 0xFFFFFFFFull && P::get_a(w) == INT32_MIN);
    }
    {
        static_assert(sizeof(edge_cases::Color) == 1, "enum repr");
        static_assert(offsetof(edge_cases::Plain, color) == 0 && offsetof(edge_cases::Plain, maybe) == 4, "POD");
        static_assert(offsetof(edge_cases::Plain, maybe_valid) == 16 && offsetof(edge_cases::Plain, class_) == 17, "POD");
        static_assert(offsetof(edge_cases::Plain, h) == 18 && offsetof(edge_cases::Plain, d) == 24 && sizeof(edge_cases::Plain) == 32, "POD");
        edge_cases::Plain p; std::memset(&p, 0, sizeof p);
        p.color = edge_cases::Color::blue;
        CHECK(static_cast<int>(p.color) == 2);
        edge_cases::PlainView v; std::memset(&v, 0, sizeof v);
        uint8_t valid = 0x02;
        v.maybe_validity = &valid;
        CHECK(!v.maybe_is_valid(0) && v.maybe_is_valid(1));
    }
    {
        using F = edge_cases::FieldEdgePackedFields;
        static_assert(F::X_BYTES == 2 && F::Y_BYTES == 12 && F::Z_BYTES == 2, "bytes");
        edge_cases::FieldEdge s; std::memset(&s, 0, sizeof s);
        F::set_y(s.y, 1, INT32_MIN); F::set_y(s.y, 2, -1);
        CHECK(F::get_y(s.y, 1) == INT32_MIN && F::get_y(s.y, 2) == -1 && F::get_y(s.y, 0) == 0);
        F::set_x(s.x, 8, true); CHECK(s.x[1] == 1u && F::get_x(s.x, 8) && !F::get_x(s.x, 7));
    }
"#;

#[test]
fn edge_case_schema_on_host_and_nvcc() {
    let compiled = compile_source(Path::new("edge.schema"), EDGE_SCHEMA.to_string())
        .ok()
        .expect("the edge-case schema is valid");
    let schema = compiled.schema;
    let files = emit::emit(Target::Cuda, &schema).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for f in &files {
        std::fs::write(dir.path().join(&f.path), &f.contents).unwrap();
    }
    let (driver, cases) = pattern_driver(&schema, &format!("{}.cuh", schema.module));
    // Wide (+ its emulated kernels) and the three per-field packed leaves.
    assert_eq!(cases, 5);
    let driver = driver.replace(
        "    std::printf(\"pattern driver:",
        &format!("{EDGE_CHECKS}    std::printf(\"pattern driver:"),
    );
    let src = dir.path().join("edge.cpp");
    std::fs::write(&src, driver).unwrap();
    if let Some(cxx) = gxx() {
        let exe = dir.path().join("edge.gxx");
        run(Command::new(&cxx)
            .args(GXX_FLAGS)
            .arg("-I")
            .arg(dir.path())
            .arg(&src)
            .arg("-o")
            .arg(&exe));
        let out = run(&mut Command::new(&exe));
        assert!(out.contains(" 0 failed"), "{out}");
    }
    let Some(nvcc) = nvcc() else { return };
    let exe = dir.path().join("edge.nvcc");
    run(nvcc_cmd(&nvcc)
        .args(["-arch=sm_80", "-x", "cu", "-I"])
        .arg(dir.path())
        .arg(&src)
        .arg("-o")
        .arg(&exe));
    let out = run(&mut Command::new(&exe));
    assert!(out.contains(" 0 failed"), "{out}");
    let ptx = dir.path().join("edge_cases.ptx");
    run(nvcc_cmd(&nvcc)
        .args(["-arch=sm_90", "-ptx"])
        .arg(dir.path().join("edge_cases_kernels.cu"))
        .arg("-o")
        .arg(&ptx));
    run(Command::new(ptxas(&nvcc))
        .arg("-arch=sm_90")
        .arg(&ptx)
        .arg("-o")
        .arg("/dev/null"));
}
