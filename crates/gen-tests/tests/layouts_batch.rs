//! The generated SoA batches (`<Name>Batch`, DESIGN §5): collate/split round trips for every
//! record of every example (seeded random samples), slicing, row views, typed columns with
//! their shapes, 64-byte alignment, validity, push rollback and the errors of samples the
//! layout cannot hold.

use gen_tests::{atdata_cases, common, edges, everything, layouts_edges, puzzle, robot, vision};
use schemac_runtime::batch::ALIGN;
use schemac_runtime::msgpack::Writer;
use schemac_runtime::rng::Rng;
use schemac_runtime::NdArray;

fn aligned<T>(s: &[T]) -> bool {
    s.is_empty() || s.as_ptr() as usize % ALIGN == 0
}

macro_rules! round_trips {
    ($($test:ident: $m:ident :: $s:ident, $b:ident;)*) => {$(
        #[test]
        fn $test() {
            for seed in 0..40u64 {
                let mut rng = Rng::new(seed);
                let samples: Vec<$m::$s> = (0..9).map(|_| $m::$s::random(&mut rng)).collect();
                let b = $m::$b::from_samples(&samples).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
                assert_eq!(b.len(), 9);
                assert_eq!(b.to_samples(), samples, "seed {seed}: split(collate(x)) == x");
                assert_eq!(b.iter().collect::<Vec<_>>(), samples);
                assert_eq!(b.get(4), samples[4]);
                assert_eq!(b.try_get(8).unwrap(), samples[8]);
                assert!(b.try_get(9).is_err());
                assert_eq!(b.rows().count(), 9);
                // random(n, seed) draws the same samples in the same order.
                assert_eq!($m::$b::random(9, seed), b);
                b.validate().unwrap_or_else(|e| panic!("seed {seed}: {e}"));
                // Slices, and slices put back together.
                assert_eq!(b.slice(2..7).to_samples(), samples[2..7].to_vec());
                assert!(b.slice(5..5).is_empty());
                let mut joined = b.slice(0..4);
                joined.extend_from_batch(&b.slice(4..9));
                assert_eq!(joined, b);
                // Collate of the split is the same batch; push one by one is the same batch.
                assert_eq!($m::$b::from_samples(&b.to_samples()).unwrap(), b);
                let mut one = $m::$b::with_capacity(2);
                for s in &samples {
                    one.push(s).unwrap();
                }
                assert_eq!(one, b);
                one.truncate(3);
                assert_eq!(one.to_samples(), samples[..3].to_vec());
                one.clear();
                assert!(one.is_empty());
            }
            let d = $m::$b::default(3);
            assert_eq!(d.to_samples(), vec![$m::$s::default(); 3]);
            let e = $m::$b::from_samples(&[]).unwrap();
            assert!(e.is_empty() && e.to_samples().is_empty());
            assert_eq!($m::$b::new(), e);
            assert_eq!($m::$b::LEAVES.len(), $m::$b::LEAVES.iter().collect::<std::collections::BTreeSet<_>>().len());
        }
    )*};
}

round_trips! {
    // The other layouts_edges records hold shapes a SoA batch cannot represent (see
    // `unrepresentable_samples_are_rejected_clearly` and docs/language.md).
    batch_edges_empty_sample: layouts_edges::E, EBatch;
    batch_edges_packed: layouts_edges::P, PBatch;
    batch_common_pose: common::Pose, PoseBatch;
    batch_everything_cell: everything::Cell, CellBatch;
    batch_everything_board: everything::Board, BoardBatch;
    batch_everything: everything::Everything, EverythingBatch;
    batch_everything_packed: everything::Packed, PackedBatch;
    batch_everything_field_packed: everything::FieldPacked, FieldPackedBatch;
    batch_everything_unpacked: everything::Unpacked, UnpackedBatch;
    batch_puzzle_agg_state: puzzle::AggState, AggStateBatch;
    batch_puzzle_agg5: puzzle::Agg5, Agg5Batch;
    batch_puzzle_state: puzzle::PuzzleState, PuzzleStateBatch;
    batch_puzzle_tile_state: puzzle::TileState, TileStateBatch;
    batch_robot_arm: robot::Arm, ArmBatch;
    batch_robot_step: robot::RobotStep, RobotStepBatch;
    batch_vision: vision::ImageSample, ImageSampleBatch;
    batch_atdata_prims: atdata_cases::Prims, PrimsBatch;
    batch_atdata_image_meta: atdata_cases::ImageMeta, ImageMetaBatch;
    batch_atdata_f32x2x3: atdata_cases::F32x2x3, F32x2x3Batch;
    batch_atdata_u8x5: atdata_cases::U8x5, U8x5Batch;
    batch_atdata_f64x2: atdata_cases::F64x2, F64x2Batch;
    batch_atdata_puzzle_state: atdata_cases::PuzzleState, PuzzleStateBatch;
    batch_edges_dot: edges::Dot, DotBatch;
    batch_edges: edges::Edges, EdgesBatch;
    batch_edges_empty: edges::Empty, EmptyBatch;
    batch_edges_holds_empty: edges::HoldsEmpty, HoldsEmptyBatch;
}

#[test]
fn robot_columns_are_the_flattened_leaves() {
    let b = robot::RobotStepBatch::random(6, 11);
    let samples = b.to_samples();
    let (xyz, shape) = b.history__xyz();
    assert_eq!(shape, [6, 8, 3]);
    for (i, s) in samples.iter().enumerate() {
        for (k, pose) in s.history.iter().enumerate() {
            assert_eq!(
                &xyz[i * 24 + k * 3..i * 24 + k * 3 + 3],
                pose.xyz.as_slice()
            );
        }
    }
    let (base, shape) = b.arms__base__quat();
    assert_eq!(shape, [6, 2, 4]);
    assert_eq!(&base[4..8], samples[0].arms[1].base.quat.as_slice());
    let (angles, shape) = b.arms__angles();
    assert_eq!(shape, [6, 2, 7]);
    assert_eq!(
        &angles[14 * 5 + 7..14 * 5 + 14],
        samples[5].arms[1].angles.as_slice()
    );
    // Enums are their variant index in the repr dtype.
    let (sensor, shape) = b.sensor();
    assert_eq!(shape, [6]);
    let idx: Vec<u8> = samples
        .iter()
        .map(|s| match s.sensor {
            common::Sensor::Camera => 0,
            common::Sensor::Lidar => 1,
            common::Sensor::Imu => 2,
        })
        .collect();
    assert_eq!(sensor, idx.as_slice());
    // Ragged optional frame: validity, offsets, shapes.
    let frame = b.frame();
    let valid = b.frame_validity();
    let mut end = 0i64;
    for (i, s) in samples.iter().enumerate() {
        assert_eq!(valid.get(i), s.frame.is_some());
        match &s.frame {
            Some(a) => {
                assert_eq!(frame.row(i), a.as_slice());
                assert_eq!(frame.row_shape_usize(i), a.shape());
                end += a.len() as i64;
            }
            None => {
                assert!(frame.row(i).is_empty());
                assert_eq!(
                    frame.row_shape(i),
                    &[0, 0, 0],
                    "absent rows have an all-zero shape"
                );
            }
        }
        assert_eq!(frame.offsets().as_slice()[i + 1], end);
    }
    // Encoded map column: each row is the map's msgpack (keys sorted).
    for (i, s) in samples.iter().enumerate() {
        let mut w = Writer::new();
        w.map_header(s.notes.len());
        for (k, v) in &s.notes {
            w.str(k);
            w.str(v);
        }
        assert_eq!(b.notes().row(i), w.as_bytes());
        assert_eq!(b.row(i).notes, w.as_bytes());
    }
    // The row view borrows the same slices.
    let r = b.row(3);
    assert_eq!(r.step, &[samples[3].step]);
    assert_eq!(r.pose__quat, samples[3].pose.quat.as_slice());
    assert_eq!(r.goal__xyz.is_some(), samples[3].goal.is_some());
}

#[test]
fn every_column_is_64_byte_aligned() {
    let b = vision::ImageSampleBatch::random(5, 3);
    assert!(aligned(b.image().0));
    assert_eq!(b.image().1, [5, 224, 224, 3]);
    assert!(aligned(b.confidence().0));
    assert!(aligned(b.split().0));
    assert!(aligned(b.mask().values()));
    assert!(aligned(b.mask().offsets().as_slice()));
    assert!(aligned(b.mask().shapes()));
    assert!(aligned(b.depth().values()));
    assert!(aligned(b.label().values()));
    assert!(aligned(b.label().offsets().as_slice()));
    assert!(aligned(b.tags().values()));
    assert!(aligned(b.mask_validity().as_bytes()));
    let s = b.slice(1..4);
    assert!(aligned(s.image().0) && aligned(s.depth().values()));
    let e = everything::EverythingBatch::random(4, 1);
    assert!(aligned(e.path__xyz().values()) && aligned(e.trail__quat().0) && aligned(e.bh().0));
}

#[test]
fn vision_row_view_and_str_column() {
    let b = vision::ImageSampleBatch::random(4, 8);
    for (i, s) in b.iter().enumerate() {
        let r = b.row(i);
        assert_eq!(r.label, s.label);
        assert_eq!(r.image, s.image.as_slice());
        assert_eq!(
            r.mask.map(|m| m.values),
            s.mask.as_ref().map(NdArray::as_slice)
        );
        assert_eq!(r.split, &[s.split as u8]);
        assert_eq!(b.label().row_str(i).unwrap(), s.label);
    }
}

#[test]
fn everything_encoded_and_packed_columns() {
    let b = everything::EverythingBatch::random(5, 2);
    let samples = b.to_samples();
    for (i, s) in samples.iter().enumerate() {
        // list<Board>: an array of each board's msgpack map.
        let mut w = Writer::new();
        w.array_header(s.boards.len());
        for board in &s.boards {
            board.write_msgpack(&mut w);
        }
        assert_eq!(b.boards().row(i), w.as_bytes());
        // A @packed field's column holds its values, unpacked.
        assert_eq!(
            b.packed_codes().0[i * 8..(i + 1) * 8].to_vec(),
            s.packed_codes_unpacked().into_vec()
        );
        // A pinned named dim: image u8[H = 4, W, 3] is ragged with rows [4, W, 3].
        assert_eq!(b.image().row_shape_usize(i), s.image.shape());
        // path: Pose[_] flattens to [len, 3] / [len, 4].
        assert_eq!(b.path__xyz().row_shape(i), &[s.path.len() as i64, 3]);
        assert_eq!(b.path__quat().row_shape(i), &[s.path.len() as i64, 4]);
        assert_eq!(b.maybe_pose__xyz_validity().get(i), s.maybe_pose.is_some());
        assert_eq!(b.sensor_validity().get(i), s.sensor.is_some());
    }
    assert_eq!(b.board__cells__alive().1, [5, 3, 3]);
}

#[test]
fn push_rolls_back_a_rejected_sample() {
    let mut rng = Rng::new(5);
    let good: Vec<vision::ImageSample> = (0..3)
        .map(|_| vision::ImageSample::random(&mut rng))
        .collect();
    let mut b = vision::ImageSampleBatch::from_samples(&good).unwrap();
    let before = b.clone();
    // A wrong fixed shape fails in the first column.
    let mut bad = good[0].clone();
    bad.image = NdArray::zeros(vec![2, 2, 3]);
    let e = b.push(&bad).unwrap_err();
    assert_eq!(e.path(), "ImageSample[3].image");
    assert_eq!(b, before);
    // A wrong ndim in a later column: the earlier columns were appended, then rolled back.
    let mut bad = good[1].clone();
    bad.depth = Some(NdArray::zeros(vec![1, 2, 3]));
    let e = b.push(&bad).unwrap_err();
    assert_eq!(e.path(), "ImageSample[3].depth");
    assert_eq!(b, before);
    b.push(&good[2]).unwrap();
    assert_eq!(b.len(), 4);
    assert_eq!(b.get(3), good[2]);

    // Component-array lengths are checked.
    let mut step = robot::RobotStep::random(&mut rng);
    step.history.pop();
    let e = robot::RobotStepBatch::from_samples(&[step]).unwrap_err();
    assert!(e.path().starts_with("RobotStep[0].history"), "{e}");
}

#[test]
fn validate_checks_every_row() {
    let mut rng = Rng::new(1);
    let mut s = everything::Everything::random(&mut rng);
    s.d = 11.0; // @range(0, 10)
    let b =
        everything::EverythingBatch::from_samples(&[everything::Everything::random(&mut rng), s])
            .unwrap();
    let e = b.validate().unwrap_err();
    assert!(e.path().starts_with("Everything[1]"), "{e}");
}

/// Valid samples whose optional or dynamic parts vary *inside* a component array, or that
/// nest optionals, have no SoA form yet (one validity bit and one shape per row and leaf):
/// collating them is a clear error naming the field, never a silent loss.
#[test]
fn unrepresentable_samples_are_rejected_clearly() {
    let mut rejected = 0;
    for seed in 0..20u64 {
        let mut rng = Rng::new(seed);
        let outer = layouts_edges::Outer::random(&mut rng);
        outer.validate().unwrap();
        if let Err(e) = layouts_edges::OuterBatch::from_samples(std::slice::from_ref(&outer)) {
            assert!(
                e.to_string().contains("cannot be stored in a SoA batch"),
                "{e}"
            );
            rejected += 1;
        }
        let foo = layouts_edges::Foo::random(&mut rng);
        foo.validate().unwrap();
        if let Err(e) = layouts_edges::FooBatch::from_samples(std::slice::from_ref(&foo)) {
            assert!(
                e.to_string().contains("cannot be stored in a SoA batch"),
                "{e}"
            );
            rejected += 1;
        }
    }
    assert!(rejected > 0);
}
