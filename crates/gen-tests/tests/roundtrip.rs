//! Round trips for every record of every example schema, over seeded random instances and
//! the default: `validate()` passes, `from_msgpack(to_msgpack(x)) == x`, the zero-copy view
//! decodes to the same value, JSON round-trips, `random` is deterministic per seed, and the
//! size hint bounds the encoding. The encoded bytes are also walked with an independent
//! MessagePack parser (`rmp`) and checked against the compiler's IR: one map, every field in
//! declaration order, float scalars as float64.

use schemac_runtime::gen_support::Record;
use schemac_runtime::msgpack::Writer;
use schemac_runtime::rng::Rng;

/// Checks one value through every path.
macro_rules! check_value {
    ($m:expr, $t:ty, $r:ident, $x:expr) => {{
        let x: $t = $x;
        x.validate()
            .unwrap_or_else(|e| panic!("{}: {e}\n{x:?}", <$t>::NAME));
        let bytes = x.to_msgpack();
        assert!(
            bytes.len() <= x.msgpack_size_hint(),
            "{}: hint {} < {}",
            <$t>::NAME,
            x.msgpack_size_hint(),
            bytes.len()
        );
        // write_msgpack appends to what is there.
        let mut w = Writer::from_vec(vec![0xc0]);
        x.write_msgpack(&mut w);
        assert_eq!(&w.as_bytes()[1..], &bytes[..]);
        let back = <$t>::from_msgpack(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, x);
        let view = $r::from_msgpack(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(view.to_owned(), x);
        let json = x.to_json();
        let back = <$t>::from_json(&json).unwrap_or_else(|e| panic!("{e}\n{json}"));
        assert_eq!(back, x);
        // Through serde_json::Value too (owned strings, no borrowing).
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let back: $t = serde_json::from_value(value).unwrap();
        assert_eq!(back, x);
        independent::check_structure($m, <$t>::NAME, &bytes);
        bytes
    }};
}

/// A test per record: `seeds` random instances plus the default.
macro_rules! roundtrip {
    ($name:ident, $m:ident :: $t:ident, $r:ident, $seeds:expr) => {
        #[test]
        fn $name() {
            use gen_tests::$m::{$r, $t};
            let mut distinct = std::collections::BTreeSet::new();
            for seed in 0..$seeds {
                let x = $t::random(&mut Rng::new(seed));
                assert_eq!(
                    x,
                    $t::random(&mut Rng::new(seed)),
                    "random is deterministic"
                );
                distinct.insert(check_value!(stringify!($m), $t, $r, x));
            }
            check_value!(stringify!($m), $t, $r, $t::default());
            // Random instances actually vary.
            assert!(distinct.len() > 1 || $seeds < 2);
            assert_eq!(<$t as Record>::NAME, $t::NAME);
            assert_eq!(<$t as Record>::FINGERPRINT, $t::FINGERPRINT);
            independent::check_fingerprint(stringify!($m), $t::NAME, $t::FINGERPRINT);
        }
    };
}

roundtrip!(vision_image_sample, vision::ImageSample, ImageSampleRef, 8);
roundtrip!(common_pose, common::Pose, PoseRef, 32);
roundtrip!(robot_arm, robot::Arm, ArmRef, 32);
roundtrip!(robot_step, robot::RobotStep, RobotStepRef, 64);
roundtrip!(puzzle_agg_state, puzzle::AggState, AggStateRef, 32);
roundtrip!(puzzle_agg5, puzzle::Agg5, Agg5Ref, 32);
roundtrip!(puzzle_puzzle_state, puzzle::PuzzleState, PuzzleStateRef, 32);
roundtrip!(puzzle_tile_state, puzzle::TileState, TileStateRef, 32);
roundtrip!(everything_cell, everything::Cell, CellRef, 32);
roundtrip!(everything_board, everything::Board, BoardRef, 32);
roundtrip!(
    everything_everything,
    everything::Everything,
    EverythingRef,
    128
);
roundtrip!(everything_packed, everything::Packed, PackedRef, 32);
roundtrip!(
    everything_field_packed,
    everything::FieldPacked,
    FieldPackedRef,
    32
);
roundtrip!(everything_unpacked, everything::Unpacked, UnpackedRef, 32);
roundtrip!(atdata_prims, atdata_cases::Prims, PrimsRef, 32);
roundtrip!(atdata_image_meta, atdata_cases::ImageMeta, ImageMetaRef, 32);
roundtrip!(edges_edges, edges::Edges, EdgesRef, 128);
roundtrip!(edges_dot, edges::Dot, DotRef, 16);
roundtrip!(edges_empty, edges::Empty, EmptyRef, 1);
roundtrip!(edges_holds_empty, edges::HoldsEmpty, HoldsEmptyRef, 16);

/// Checks against the compiler's IR and an independent MessagePack parser.
mod independent {
    use std::collections::BTreeMap;
    use std::sync::OnceLock;

    use schemac::ir;

    const SCHEMAS: &[(&str, &str)] = &[
        ("common", "examples/schemas/common.schema"),
        ("everything", "examples/schemas/everything.schema"),
        ("puzzle", "examples/schemas/puzzle.schema"),
        ("robot", "examples/schemas/robot.schema"),
        ("vision", "examples/schemas/vision.schema"),
        (
            "atdata_cases",
            "crates/gen-tests/schemas/atdata_cases.schema",
        ),
        ("edges", "crates/gen-tests/schemas/edges.schema"),
    ];

    /// The IR of every schema, by module name.
    fn irs() -> &'static BTreeMap<&'static str, ir::Schema> {
        static IRS: OnceLock<BTreeMap<&'static str, ir::Schema>> = OnceLock::new();
        IRS.get_or_init(|| {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            SCHEMAS
                .iter()
                .map(|(m, p)| {
                    let compiled = schemac::compile_file(&root.join(p))
                        .unwrap_or_else(|_| panic!("{p} does not compile"));
                    (*m, compiled.schema)
                })
                .collect()
        })
    }

    fn schema(module: &str) -> &'static ir::Schema {
        &irs()[module]
    }

    pub fn check_fingerprint(module: &str, name: &str, fingerprint: &str) {
        let r = irs()[module]
            .record(name)
            .unwrap_or_else(|| panic!("{module}: no {name}"));
        assert_eq!(r.fingerprint, fingerprint, "{module}.{name}");
    }

    /// The sample is one map holding every field of the IR, in declaration order; scalars
    /// have their wire family (floats as float64, ints as ints); nested components too.
    pub fn check_structure(module: &str, name: &str, bytes: &[u8]) {
        let mut rd: &[u8] = bytes;
        let s = schema(module);
        walk_record(s, s.record(name).expect("record"), &mut rd);
        assert!(rd.is_empty(), "{name}: {} bytes left", rd.len());
    }

    fn walk_record(s: &ir::Schema, r: &ir::Record, rd: &mut &[u8]) {
        let n = rmp::decode::read_map_len(rd).expect("a map");
        assert_eq!(n as usize, r.fields.len(), "{}: field count", r.name);
        for f in &r.fields {
            let key = read_str(rd);
            assert_eq!(key, f.name, "{}: key order", r.name);
            if f.optional && peek(rd) == 0xc0 {
                *rd = &rd[1..];
                continue;
            }
            walk(s, &f.ty, rd);
        }
    }

    fn peek(rd: &[u8]) -> u8 {
        rd[0]
    }

    fn read_str(rd: &mut &[u8]) -> String {
        let len = rmp::decode::read_str_len(rd).expect("a str") as usize;
        let s = std::str::from_utf8(&rd[..len]).unwrap().to_owned();
        *rd = &rd[len..];
        s
    }

    fn walk(s: &ir::Schema, ty: &ir::Ty, rd: &mut &[u8]) {
        use rmp::Marker;
        match ty {
            ir::Ty::Scalar { dtype } => {
                let m = Marker::from_u8(rd[0]);
                *rd = &rd[1..];
                if dtype.is_float() {
                    assert_eq!(m, Marker::F64, "float scalars are written as float64");
                    *rd = &rd[8..];
                } else if *dtype == ir::Dtype::Bool {
                    assert!(matches!(m, Marker::True | Marker::False));
                } else {
                    let skip = match m {
                        Marker::FixPos(_) | Marker::FixNeg(_) => 0,
                        Marker::U8 | Marker::I8 => 1,
                        Marker::U16 | Marker::I16 => 2,
                        Marker::U32 | Marker::I32 => 4,
                        Marker::U64 | Marker::I64 => 8,
                        other => panic!("an int, found {other:?}"),
                    };
                    *rd = &rd[skip..];
                }
            }
            ir::Ty::Str | ir::Ty::Enum { .. } => {
                read_str(rd);
            }
            ir::Ty::Bytes => {
                let len = rmp::decode::read_bin_len(rd).expect("a bin") as usize;
                *rd = &rd[len..];
            }
            ir::Ty::Array { dtype, shape } => {
                let len = rmp::decode::read_bin_len(rd).expect("a bin") as usize;
                let payload = &rd[..len];
                // atdata's payload: typestr, ndim, dims, data.
                let tl = payload[0] as usize;
                assert_eq!(&payload[1..1 + tl], dtype.typestr().as_bytes());
                let ndim = payload[1 + tl] as usize;
                assert_eq!(ndim, shape.len());
                let dims: Vec<u64> = (0..ndim)
                    .map(|i| {
                        let at = 2 + tl + 8 * i;
                        i64::from_le_bytes(payload[at..at + 8].try_into().unwrap()) as u64
                    })
                    .collect();
                for (d, s) in dims.iter().zip(shape) {
                    if let ir::Dim::Fixed(n) = s {
                        assert_eq!(d, n);
                    }
                }
                let data = len - (2 + tl + 8 * ndim);
                assert_eq!(data as u64, dims.iter().product::<u64>() * dtype.size());
                *rd = &rd[len..];
            }
            ir::Ty::Record { name, shape } => {
                walk_nested(s, s.record(name).expect("record"), shape, rd)
            }
            ir::Ty::List { item } => {
                let n = rmp::decode::read_array_len(rd).expect("an array");
                for _ in 0..n {
                    walk(s, item, rd);
                }
            }
            ir::Ty::Map { value } => {
                let n = rmp::decode::read_map_len(rd).expect("a map");
                let mut prev: Option<String> = None;
                for _ in 0..n {
                    let k = read_str(rd);
                    // Canonical: keys in sorted order.
                    assert!(
                        prev.as_deref().is_none_or(|p| p < k.as_str()),
                        "map keys sorted"
                    );
                    prev = Some(k);
                    walk(s, value, rd);
                }
            }
        }
    }

    /// A component (array): nested arrays following the shape, maps at the bottom.
    fn walk_nested(s: &ir::Schema, r: &ir::Record, shape: &[ir::Dim], rd: &mut &[u8]) {
        match shape.split_first() {
            None => walk_record(s, r, rd),
            Some((d, rest)) => {
                let n = rmp::decode::read_array_len(rd).expect("an array");
                if let ir::Dim::Fixed(k) = d {
                    assert_eq!(u64::from(n), *k);
                }
                for _ in 0..n {
                    walk_nested(s, r, rest, rd);
                }
            }
        }
    }
}
