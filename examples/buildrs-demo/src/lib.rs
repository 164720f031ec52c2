//! A crate whose sample types come from a schema, compiled by `build.rs`.
//!
//! `package vision.v1;` makes the generated file `vision_v1.rs`; it holds `ImageSample`
//! (with `to_msgpack`, `from_msgpack`, `validate`, `random`, serde, ...), its zero-copy view
//! `ImageSampleRef`, the `Split` enum, and the batch and packed layouts.

#![deny(warnings)]

/// The generated types of `examples/schemas/vision.schema`.
pub mod vision {
    schemac_runtime::include_schema!("vision_v1");
}

pub use vision::{ImageSample, Split};

/// A small helper built on the generated type: the mean pixel of an image sample.
pub fn mean_pixel(s: &ImageSample) -> f32 {
    let px = s.image.as_slice();
    px.iter().sum::<f32>() / px.len() as f32
}
