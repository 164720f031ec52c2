//! The generated `ImageSample` from the demo crate: round trips, and the first bytes of its
//! MessagePack encoding computed by hand from DESIGN §4 (atdata's format).

use buildrs_demo::{mean_pixel, vision::ImageSampleRef, ImageSample, Split};
use schemac_runtime::array::NdArray;
use schemac_runtime::rng::Rng;

#[test]
fn round_trip() {
    for seed in 0..4 {
        let x = ImageSample::random(&mut Rng::new(seed));
        x.validate().unwrap();
        let bytes = x.to_msgpack();
        assert_eq!(ImageSample::from_msgpack(&bytes).unwrap(), x);
        assert_eq!(ImageSampleRef::from_msgpack(&bytes).unwrap().to_owned(), x);
        assert_eq!(ImageSample::from_json(&x.to_json()).unwrap(), x);
        assert!(mean_pixel(&x).abs() < 1.0);
    }
}

#[test]
fn golden_prefix() {
    let mut x = ImageSample {
        label: "cat".into(),
        split: Split::Val,
        ..ImageSample::default()
    };
    x.image.as_mut_slice()[0] = 1.0;
    let b = x.to_msgpack();
    // Payload of `image`: u8 len(typestr), "<f4", u8 ndim, 3 × i64 LE dims, then data.
    let payload_len: u32 = 1 + 3 + 1 + 3 * 8 + 224 * 224 * 3 * 4;
    let mut expected = vec![0x87]; // fixmap, 7 fields
    expected.extend_from_slice(b"\xa5image"); // fixstr key
    expected.push(0xc6); // bin32
    expected.extend_from_slice(&payload_len.to_be_bytes());
    expected.extend_from_slice(b"\x03<f4\x03");
    for d in [224i64, 224, 3] {
        expected.extend_from_slice(&d.to_le_bytes());
    }
    expected.extend_from_slice(&1.0f32.to_le_bytes()); // image[0, 0, 0]
    assert_eq!(&b[..expected.len()], &expected[..]);
    // After the pixels: the label, then confidence as float64 (its default 1.0), mask and
    // depth absent (nil), no tags, and the split by name.
    let mut tail = Vec::new();
    tail.extend_from_slice(b"\xa5label\xa3cat");
    tail.extend_from_slice(b"\xaaconfidence\xcb");
    tail.extend_from_slice(&1.0f64.to_be_bytes());
    tail.extend_from_slice(b"\xa4mask\xc0\xa5depth\xc0\xa4tags\x90\xa5split\xa3val");
    assert_eq!(&b[b.len() - tail.len()..], &tail[..]);
    assert_eq!(
        b.len(),
        expected.len() - 4 + (224 * 224 * 3 * 4) + tail.len()
    );
    let back = ImageSample::from_msgpack(&b).unwrap();
    assert_eq!(back.image.shape(), &[224, 224, 3]);
    assert_eq!(back, x);
    assert_eq!(x.mask, None::<NdArray<u8>>);
}

/// The imported `Pose` is one type: the value built from `common` is what `RobotStep`
/// holds (an assignment, so a second `Pose` type would not compile).
#[test]
fn imported_records_are_one_type() {
    use buildrs_demo::{common, robot};
    let pose = common::Pose::random(&mut Rng::new(3));
    let step = robot::RobotStep {
        pose: pose.clone(),
        sensor: common::Sensor::Camera,
        ..robot::RobotStep::default()
    };
    let back = robot::RobotStep::from_msgpack(&step.to_msgpack()).unwrap();
    assert_eq!(back.pose, pose);
    assert_eq!(back.sensor, common::Sensor::Camera);
}
