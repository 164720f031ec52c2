//! Rust layout types (being written): `<Name>Batch`, `<Name>Packed`, `<Name>PackedBatch`.
