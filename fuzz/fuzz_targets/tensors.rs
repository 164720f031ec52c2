//! Safetensors bytes → `schemac_runtime::tensors::TensorFile` (every accessor on every
//! tensor) and the generated `<Name>Batch::from_safetensors` of the record the metadata
//! names. A batch that loads must save, and its file must load and save to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schemac_runtime::tensors::TensorFile;

macro_rules! batches {
    ($name:expr, $bytes:expr; $($sample:literal => $($m:ident :: $b:ident),+;)*) => {
        match $name {
            $($sample => {$(
                if let Ok(b) = gen_tests::$m::$b::from_safetensors($bytes.to_vec()) {
                    let again = b.to_safetensors().expect("a loaded batch saves");
                    let back = gen_tests::$m::$b::from_safetensors(again.clone())
                        .expect("a saved batch loads");
                    // Bytes, not `==`: a NaN element is not equal to itself.
                    let twice = back.to_safetensors().expect("a loaded batch saves");
                    assert!(twice == again, "{}: save/load is not a fixed point", stringify!($b));
                }
            )+})*
            _ => {}
        }
    };
}

fuzz_target!(|data: &[u8]| {
    let f = match TensorFile::from_bytes(data.to_vec()) {
        Ok(f) => f,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let _ = f.rows_hint();
    for name in f.names() {
        let _ = f.raw(name);
        let _ = f.tensor::<u8>(name);
        let _ = f.tensor::<i64>(name);
        let _ = f.tensor::<f32>(name);
        let _ = f.tensor::<bool>(name);
        let _ = f.rows_of(name);
        if let Some(n) = f.rows_of(name) {
            let _ = f.binary(name, n);
            let _ = f.validity(name, n);
            let _ = f.ragged::<u8>(name, n, 1);
            let _ = f.fixed::<u8>(name, n, &[]);
        }
    }
    let sample = f
        .metadata()
        .get(schemac_runtime::tensors::META_SAMPLE)
        .cloned()
        .unwrap_or_default();
    batches!(sample.as_str(), data;
        "Pose" => common::PoseBatch;
        "Everything" => everything::EverythingBatch;
        "Packed" => everything::PackedBatch;
        "Board" => everything::BoardBatch;
        "FieldPacked" => everything::FieldPackedBatch;
        "Unpacked" => everything::UnpackedBatch;
        "AggState" => puzzle::AggStateBatch;
        "Agg5" => puzzle::Agg5Batch;
        "PuzzleState" => puzzle::PuzzleStateBatch, atdata_cases::PuzzleStateBatch;
        "TileState" => puzzle::TileStateBatch;
        "RobotStep" => robot::RobotStepBatch;
        "Arm" => robot::ArmBatch;
        "ImageSample" => vision::ImageSampleBatch;
        "Prims" => atdata_cases::PrimsBatch;
        "ImageMeta" => atdata_cases::ImageMetaBatch;
        "Edges" => edges::EdgesBatch;
        "Dot" => edges::DotBatch;
        "Empty" => edges::EmptyBatch;
        "HoldsEmpty" => edges::HoldsEmptyBatch;
    );
});
