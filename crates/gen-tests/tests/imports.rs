//! Imports are references: `robot.schema` and `everything.schema` both import
//! `common.schema`, and their generated modules use the one `common::Pose` (and
//! `common::Sensor`) instead of defining their own. That one value can be handed to both
//! is checked by the compiler; the bytes each writes for it are the same as Pose's own.

use gen_tests::{common, everything, robot};
use schemac_runtime::rng::Rng;

fn a_pose() -> common::Pose {
    common::Pose::random(&mut Rng::new(7))
}

#[test]
fn one_pose_value_goes_into_both_importers() {
    let pose = a_pose();
    // The value itself, not a conversion: a second `Pose` type here would not compile.
    let step = robot::RobotStep {
        pose: pose.clone(),
        history: vec![pose.clone(); 8],
        goal: Some(pose.clone()),
        sensor: common::Sensor::Imu,
        ..robot::RobotStep::default()
    };
    let every = everything::Everything {
        pose: pose.clone(),
        sensor: Some(common::Sensor::Camera),
        ..everything::Everything::default()
    };
    // And back out: what each importer decodes is a `common::Pose` again.
    let step2 = robot::RobotStep::from_msgpack(&step.to_msgpack()).unwrap();
    let every2 = everything::Everything::from_msgpack(&every.to_msgpack()).unwrap();
    let out: [&common::Pose; 3] = [&step2.pose, step2.goal.as_ref().unwrap(), &every2.pose];
    for p in out {
        assert_eq!(*p, pose);
    }
    step2.validate().unwrap();
    every2.validate().unwrap();
}

#[test]
fn the_nested_pose_is_written_as_pose_writes_itself() {
    let pose = a_pose();
    let step = robot::RobotStep {
        pose: pose.clone(),
        ..robot::RobotStep::default()
    };
    let bytes = step.to_msgpack();
    let own = pose.to_msgpack();
    assert!(
        bytes.windows(own.len()).any(|w| w == own.as_slice()),
        "RobotStep's msgpack does not contain Pose's own encoding"
    );
}

#[test]
fn batches_of_importers_hold_the_imported_leaves() {
    let pose = a_pose();
    let step = robot::RobotStep {
        pose: pose.clone(),
        ..robot::RobotStep::default()
    };
    let mut batch = robot::RobotStepBatch::new();
    batch.push(&step).unwrap();
    let (xyz, shape) = batch.pose__xyz();
    assert_eq!(shape, [1, 3]);
    assert_eq!(xyz, pose.xyz.as_slice());
    assert_eq!(batch.to_samples()[0].pose, pose);
}
