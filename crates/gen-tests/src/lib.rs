//! The Rust that `schemac` generates for every example schema, compiled under
//! `#![deny(warnings)]` (and clippy `-D warnings` in CI), so a warning in generated code
//! fails the build. The tests in `tests/` exercise the generated types against golden
//! vectors and each other.

#![deny(warnings)]

/// `examples/schemas/common.schema`.
pub mod common {
    include!(concat!(env!("OUT_DIR"), "/common.rs"));
}

/// `examples/schemas/everything.schema`.
pub mod everything {
    include!(concat!(env!("OUT_DIR"), "/everything.rs"));
}

/// `examples/schemas/puzzle.schema`.
pub mod puzzle {
    include!(concat!(env!("OUT_DIR"), "/puzzle.rs"));
}

/// `examples/schemas/robot.schema`.
pub mod robot {
    include!(concat!(env!("OUT_DIR"), "/robot.rs"));
}

/// `examples/schemas/vision.schema`.
pub mod vision {
    include!(concat!(env!("OUT_DIR"), "/vision.rs"));
}

/// `schemas/atdata_cases.schema`: the schemas of the runtime's golden vectors.
pub mod atdata_cases {
    include!(concat!(env!("OUT_DIR"), "/atdata_cases.rs"));
}

/// `schemas/edges.schema`: emitter corner cases the examples do not reach.
pub mod edges {
    include!(concat!(env!("OUT_DIR"), "/edges.rs"));
}

/// `schemas/layouts_edges.schema`: batch and packed corner cases (str/list/map/enum inside
/// component arrays, nested dynamic arrays, all-optional components, empty records).
pub mod layouts_edges {
    include!(concat!(env!("OUT_DIR"), "/layouts_edges.rs"));
}
