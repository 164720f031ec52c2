//! Batches as safetensors files (DESIGN §5, `schemac_runtime::tensors`): round trips for every
//! record, the tensor names/dtypes/shapes of the naming convention, and the files `load`
//! refuses. With `SCHEMAC_SAFETENSORS_DIR` set, `write_files_for_python` also writes batches
//! and JSON manifests there for `python/tests/test_rust_safetensors.py`.

use std::path::PathBuf;

use gen_tests::{atdata_cases, common, edges, everything, puzzle, robot, vision};
use schemac_runtime::tensors::{TensorFile, TensorSet};
use schemac_runtime::Dtype;

/// A tensor's dtype, shape and little-endian bytes.
type Raw = (Dtype, Vec<usize>, Vec<u8>);

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("schemac-layouts-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

macro_rules! file_round_trips {
    ($($test:ident: $m:ident :: $b:ident;)*) => {$(
        #[test]
        fn $test() {
            let dir = temp_dir(stringify!($test));
            for seed in 0..10u64 {
                let b = $m::$b::random(7, seed);
                let bytes = b.to_safetensors().unwrap();
                assert_eq!($m::$b::from_safetensors(bytes).unwrap(), b, "seed {seed}");
                let path = dir.join(format!("{seed}.safetensors"));
                b.save(&path).unwrap();
                assert_eq!($m::$b::load(&path).unwrap(), b);
                // A slice is a batch like any other.
                let s = b.slice(2..5);
                assert_eq!($m::$b::from_safetensors(s.to_safetensors().unwrap()).unwrap(), s);
            }
            let empty = $m::$b::new();
            assert_eq!($m::$b::from_safetensors(empty.to_safetensors().unwrap()).unwrap(), empty);
            std::fs::remove_dir_all(&dir).unwrap();
        }
    )*};
}

file_round_trips! {
    file_common_pose: common::PoseBatch;
    file_everything: everything::EverythingBatch;
    file_everything_packed: everything::PackedBatch;
    file_everything_board: everything::BoardBatch;
    file_everything_field_packed: everything::FieldPackedBatch;
    file_everything_unpacked: everything::UnpackedBatch;
    file_puzzle_agg_state: puzzle::AggStateBatch;
    file_puzzle_agg5: puzzle::Agg5Batch;
    file_puzzle_state: puzzle::PuzzleStateBatch;
    file_puzzle_tile_state: puzzle::TileStateBatch;
    file_robot_step: robot::RobotStepBatch;
    file_robot_arm: robot::ArmBatch;
    file_vision: vision::ImageSampleBatch;
    file_atdata_prims: atdata_cases::PrimsBatch;
    file_atdata_image_meta: atdata_cases::ImageMetaBatch;
    file_edges: edges::EdgesBatch;
    file_edges_dot: edges::DotBatch;
    file_edges_empty: edges::EmptyBatch;
    file_edges_holds_empty: edges::HoldsEmptyBatch;
}

#[test]
fn vision_tensor_names_dtypes_and_shapes() {
    let b = vision::ImageSampleBatch::random(3, 4);
    let f = TensorFile::from_bytes(b.to_safetensors().unwrap()).unwrap();
    assert_eq!(
        f.names(),
        vec![
            "confidence",
            "depth",
            "depth.offsets",
            "depth.shapes",
            "depth.validity",
            "image",
            "label",
            "label.offsets",
            "mask",
            "mask.offsets",
            "mask.shapes",
            "mask.validity",
            "split",
            "tags",
            "tags.offsets",
        ]
    );
    assert_eq!(f.metadata()["schemac_sample"], "ImageSample");
    assert_eq!(
        f.metadata()["schemac_fingerprint"],
        vision::ImageSampleBatch::FINGERPRINT
    );
    assert_eq!(f.metadata()["schemac_rows"], "3");
    assert_eq!(f.shape("image"), Some(&[3, 224, 224, 3][..]));
    assert_eq!(f.shape("confidence"), Some(&[3][..]));
    assert_eq!(f.shape("mask.offsets"), Some(&[4][..]));
    assert_eq!(f.shape("mask.shapes"), Some(&[3, 2][..]));
    assert_eq!(f.shape("mask.validity"), Some(&[3][..]));
    assert_eq!(f.shape("label.offsets"), Some(&[4][..]));
    let (v, _) = f.tensor::<u8>("mask.validity").unwrap();
    let expect: Vec<u8> = b.iter().map(|s| u8::from(s.mask.is_some())).collect();
    assert_eq!(v.to_vec(), expect, "validity: one byte per row, 0/1");
    assert!(f.tensor::<f64>("image").is_err(), "dtypes are checked");
    let (image, shape) = f.tensor::<f32>("image").unwrap();
    assert_eq!(shape, vec![3, 224, 224, 3]);
    assert_eq!(&image[..], b.image().0);
}

#[test]
fn load_refuses_other_records_layouts_and_bad_buffers() {
    let v = vision::ImageSampleBatch::random(3, 1);
    // Another record's file.
    let robot_file = robot::RobotStepBatch::random(2, 1)
        .to_safetensors()
        .unwrap();
    let e = vision::ImageSampleBatch::from_safetensors(robot_file).unwrap_err();
    assert!(e.to_string().contains("not a batch of ImageSample"), "{e}");
    // Another layout of the same record name.
    let stale = v
        .tensors()
        .to_bytes("ImageSample", "0000000000000000", 3)
        .unwrap();
    let e = vision::ImageSampleBatch::from_safetensors(stale).unwrap_err();
    assert!(e.to_string().contains("fingerprint"), "{e}");

    let fp = vision::ImageSampleBatch::FINGERPRINT;
    let original = v.to_safetensors().unwrap();
    // A copy of `v`'s file with some tensors replaced (or dropped, for `None`).
    let patched = |patch: &[(&str, Option<Raw>)]| -> Vec<u8> {
        let f = TensorFile::from_bytes(original.clone()).unwrap();
        let mut set = TensorSet::new();
        for name in f.names() {
            let (d, shape, bytes) = match patch.iter().find(|(n, _)| *n == name) {
                Some((_, Some(t))) => t.clone(),
                Some((_, None)) => continue,
                None => f.raw(name).unwrap(),
            };
            set.add_raw(name, d, shape, bytes).unwrap();
        }
        set.to_bytes("ImageSample", fp, 3).unwrap()
    };
    let i64_bytes = |v: &[i64]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    // Unchanged copy loads.
    assert_eq!(
        vision::ImageSampleBatch::from_safetensors(patched(&[])).unwrap(),
        v
    );
    // A column of the wrong dtype.
    let wrong_dtype = patched(&[(
        "image",
        Some((
            Dtype::F64,
            vec![3, 224, 224, 3],
            vec![0; 3 * 224 * 224 * 3 * 8],
        )),
    )]);
    let e = vision::ImageSampleBatch::from_safetensors(wrong_dtype).unwrap_err();
    assert!(
        e.to_string().contains("\"image\"") && e.to_string().contains("dtype"),
        "{e}"
    );
    // A fixed column of the wrong shape.
    let wrong_shape = patched(&[("split", Some((Dtype::U8, vec![3, 1], vec![0; 3])))]);
    assert!(vision::ImageSampleBatch::from_safetensors(wrong_shape).is_err());
    // A validity byte that is not 0/1.
    let bad_validity = patched(&[("mask.validity", Some((Dtype::U8, vec![3], vec![2, 0, 0])))]);
    assert!(vision::ImageSampleBatch::from_safetensors(bad_validity).is_err());
    // Offsets that go backwards.
    let label_len = v.label().values().len() as i64;
    let bad_offsets = patched(&[(
        "label.offsets",
        Some((Dtype::I64, vec![4], i64_bytes(&[0, 1, 0, label_len]))),
    )]);
    assert!(vision::ImageSampleBatch::from_safetensors(bad_offsets).is_err());
    // An enum index outside the enum.
    let bad_enum = patched(&[("split", Some((Dtype::U8, vec![3], vec![0, 7, 0])))]);
    let e = vision::ImageSampleBatch::from_safetensors(bad_enum).unwrap_err();
    assert!(e.to_string().contains("variant index"), "{e}");
    // A missing tensor.
    let e =
        vision::ImageSampleBatch::from_safetensors(patched(&[("tags.offsets", None)])).unwrap_err();
    assert!(e.to_string().contains("missing tensor"), "{e}");
    // A row of an encoded column that is not msgpack (0xc1 never is): every row must decode.
    let tags_len = v.tags().values().len();
    let garbage = patched(&[(
        "tags",
        Some((Dtype::U8, vec![tags_len], vec![0xc1; tags_len])),
    )]);
    let e = vision::ImageSampleBatch::from_safetensors(garbage).unwrap_err();
    assert!(e.to_string().contains("tags"), "{e}");
    // Not a safetensors file at all.
    assert!(vision::ImageSampleBatch::from_safetensors(b"not a file".to_vec()).is_err());
}

// ---------------------------------------------------------------------------------------------
// Files for the Python side.

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Writes `<stem>.<Record>.safetensors` and `<stem>.<Record>.json` (record, fingerprint, row
/// count, every tensor's dtype/shape/bytes in hex, every row's msgpack in hex).
fn write_for_python(
    dir: &std::path::Path,
    stem: &str,
    record: &str,
    fingerprint: &str,
    st: Vec<u8>,
    rows: Vec<Vec<u8>>,
) {
    std::fs::write(dir.join(format!("{stem}.{record}.safetensors")), &st).unwrap();
    let f = TensorFile::from_bytes(st).unwrap();
    let mut tensors = serde_json::Map::new();
    for name in f.names() {
        let (dtype, shape, bytes) = f.raw(name).unwrap();
        let dtype = format!("{:?}", schemac_runtime::tensors::st_dtype(dtype));
        tensors.insert(
            name.to_owned(),
            serde_json::json!({ "dtype": dtype, "shape": shape, "hex": hex(&bytes) }),
        );
    }
    let manifest = serde_json::json!({
        "stem": stem,
        "record": record,
        "fingerprint": fingerprint,
        "rows": rows.len(),
        "msgpack_hex": rows.iter().map(|r| hex(r)).collect::<Vec<_>>(),
        "tensors": tensors,
    });
    std::fs::write(
        dir.join(format!("{stem}.{record}.json")),
        serde_json::to_string_pretty(&manifest).unwrap(),
    )
    .unwrap();
}

macro_rules! python_files {
    ($dir:expr; $($stem:literal: $m:ident :: $s:ident, $b:ident;)*) => {$({
        let b = $m::$b::random(4, 7);
        let rows = b.iter().map(|s| s.to_msgpack()).collect();
        write_for_python($dir, $stem, stringify!($s), $m::$b::FINGERPRINT, b.to_safetensors().unwrap(), rows);
    })*};
}

#[test]
fn write_files_for_python() {
    let Some(dir) = std::env::var_os("SCHEMAC_SAFETENSORS_DIR") else {
        eprintln!(
            "SCHEMAC_SAFETENSORS_DIR is not set: not writing the batch files python/tests/test_rust_safetensors.py reads"
        );
        return;
    };
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    python_files! { &dir;
        "vision": vision::ImageSample, ImageSampleBatch;
        "robot": robot::RobotStep, RobotStepBatch;
        "robot": robot::Arm, ArmBatch;
        "everything": everything::Everything, EverythingBatch;
        "everything": everything::Packed, PackedBatch;
        "everything": everything::Board, BoardBatch;
        "everything": everything::FieldPacked, FieldPackedBatch;
        "everything": everything::Unpacked, UnpackedBatch;
        "puzzle": puzzle::AggState, AggStateBatch;
        "puzzle": puzzle::Agg5, Agg5Batch;
        "puzzle": puzzle::PuzzleState, PuzzleStateBatch;
        "puzzle": puzzle::TileState, TileStateBatch;
        "common": common::Pose, PoseBatch;
        "edges": edges::Edges, EdgesBatch;
    }
    eprintln!("wrote batch files for Python into {}", dir.display());
}
