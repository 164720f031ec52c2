//! Rust target (being written): structs, enums, msgpack/JSON codecs, validation, random
//! instances. Layout types (batches, packed forms) come from [`layouts`].

mod layouts;
