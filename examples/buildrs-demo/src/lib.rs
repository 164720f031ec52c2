//! A crate whose sample types come from a schema, compiled by `build.rs`.
//!
//! `package vision.v1;` makes the generated file `vision_v1.rs`; it holds `ImageSample`
//! (with `to_msgpack`, `from_msgpack`, `validate`, `random`, serde, ...), its zero-copy view
//! `ImageSampleRef`, the `Split` enum, and the batch and packed layouts. `robot` and its
//! import `common` show imports: one `common::Pose` type, used by `robot::RobotStep`.

#![deny(warnings)]

/// The generated types of `examples/schemas/vision.schema`.
pub mod vision {
    schemac_runtime::include_schema!("vision_v1");
}

pub use vision::{ImageSample, Split};

// `robot.schema` imports `common.schema`: `Pose` and `Sensor` are defined once, in
// `common`, and robot's types refer to them as `super::common::Pose`, so the two modules
// are declared side by side.
schemac_runtime::include_schema!(common, robot);

/// A small helper built on the generated type: the mean pixel of an image sample.
pub fn mean_pixel(s: &ImageSample) -> f32 {
    let px = s.image.as_slice();
    px.iter().sum::<f32>() / px.len() as f32
}
