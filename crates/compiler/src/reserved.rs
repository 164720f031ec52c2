//! Names the generated code takes for itself, kept in one place: `check` rejects schema
//! type names that would take them (E0034, with a location), and the emitters refuse them
//! again as a last line of defence, so the two can never drift apart.

/// Rust names the generated code uses unqualified (prelude items and path keywords),
/// compared with a type's UpperCamelCase spelling, as the Rust emitter writes it.
pub const RUST_TYPES: &[&str] = &[
    "Option",
    "Some",
    "None",
    "Ok",
    "Err",
    "Vec",
    "String",
    "Default",
    "Clone",
    "Copy",
    "Debug",
    "PartialEq",
    "Eq",
    "Hash",
    "Box",
    "Self",
    "Super",
    "Crate",
];

/// Names the generated Python module binds at top level besides its classes and codecs,
/// or that its annotations refer to, compared as written.
pub const PYTHON_MODULE_NAMES: &[&str] = &[
    "annotations",
    "enum",
    "Mapping",
    "dataclass",
    "field",
    "Any",
    "ClassVar",
    "np",
    "npt",
    "SCHEMAC_VERSION",
    "int",
    "float",
    "bool",
    // The runtime modules' aliases (see the Python template's imports block).
    "_b",
    "_g",
    "_j",
    "_w",
    "_wds",
];
