//! The Arrow mapping of the IR (docs/language.md, "Arrow and Parquet"): one Arrow schema per
//! record, the table form of its batches. `schemac layout --format arrow` prints it as JSON,
//! the examples' mappings are snapshotted, and the Python runtime's pyarrow conversion is
//! tested against this output, so the mapping is defined once, here.
//!
//! The JSON is a plain description of Arrow types that any Arrow library can rebuild:
//! a field is `{"name", "nullable", "type"}` (plus `"metadata"` when it has any), and a type
//! is `{"type": <name>, ...}` with the children of nested types as fields. Names follow
//! Arrow's C++/pyarrow spelling (`int8`, `float16`, `utf8`, `fixed_size_list`, ...).

use crate::ir::{self, Dim, Dtype, Ty};
use serde_json::{json, Map, Value};

/// The canonical fixed-shape tensor extension (Arrow's canonical extension types).
pub const FIXED_SHAPE_TENSOR: &str = "arrow.fixed_shape_tensor";
/// The canonical variable-shape tensor extension.
pub const VARIABLE_SHAPE_TENSOR: &str = "arrow.variable_shape_tensor";
/// Field-metadata key naming the schemac dtype where Arrow has no type of its own (bf16).
pub const DTYPE_KEY: &str = "schemac.dtype";

/// Every record of `schema` (imports included) as `{"package", "records": [...]}`.
pub fn schema_json(schema: &ir::Schema) -> Value {
    let records: Vec<Value> = schema
        .records
        .iter()
        .map(|r| record_schema(schema, r))
        .collect();
    json!({ "package": schema.package, "records": records })
}

/// One record's Arrow schema: a column per field, in declaration order; the schema metadata
/// names the record and its layout fingerprint (readers refuse a table of another record or
/// fingerprint, like the safetensors path).
pub fn record_schema(schema: &ir::Schema, record: &ir::Record) -> Value {
    let fields: Vec<Value> = record
        .fields
        .iter()
        .map(|f| field(schema, f, false))
        .collect();
    json!({
        "record": record.name,
        "kind": match record.kind {
            ir::RecordKind::Sample => "sample",
            ir::RecordKind::Component => "component",
        },
        "metadata": {
            "schemac.record": record.name,
            "schemac.fingerprint": record.fingerprint,
        },
        "fields": fields,
    })
}

/// A column or struct child. It is nullable when the field is optional or sits in an
/// optional component (like the IR's `Leaf::optional`): a null struct slot has null
/// children, and pyarrow's Parquet reader cannot read a non-nullable fixed-size list under
/// a null struct slot back.
fn field(schema: &ir::Schema, f: &ir::Field, under_optional: bool) -> Value {
    let nullable = f.optional || under_optional;
    let (ty, metadata) = ty(schema, &f.ty, nullable);
    named(&f.name, nullable, ty, metadata)
}

fn named(name: &str, nullable: bool, ty: Value, metadata: Option<Value>) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), json!(name));
    m.insert("nullable".into(), json!(nullable));
    m.insert("type".into(), ty);
    if let Some(md) = metadata {
        m.insert("metadata".into(), md);
    }
    Value::Object(m)
}

/// A list's element field, as Arrow names it by default (`item`, nullable).
fn item(ty: Value, metadata: Option<Value>) -> Value {
    named("item", true, ty, metadata)
}

/// The Arrow type of a schema type, and the field metadata it needs (bf16 only).
/// `nullable`: the field holding it is nullable (children of a component then are too).
fn ty(schema: &ir::Schema, t: &Ty, nullable: bool) -> (Value, Option<Value>) {
    match t {
        Ty::Scalar { dtype } => (primitive(*dtype), dtype_metadata(*dtype)),
        Ty::Str => (json!({ "type": "utf8" }), None),
        Ty::Bytes => (json!({ "type": "binary" }), None),
        Ty::Array { dtype, shape } => (tensor(*dtype, shape), dtype_metadata(*dtype)),
        Ty::Enum { name } => {
            let values: Vec<&str> = schema
                .enums
                .iter()
                .find(|e| &e.name == name)
                .map(|e| e.variants.iter().map(|v| v.name.as_str()).collect())
                .unwrap_or_default();
            (
                json!({ "type": "dictionary", "index": "int32", "value": "utf8", "values": values }),
                None,
            )
        }
        Ty::Record { name, shape } => {
            // Elements of a component array are never null; a single component is null
            // exactly when its field is.
            let under = nullable && shape.is_empty();
            let st = schema
                .records
                .iter()
                .find(|r| &r.name == name)
                .map(|r| {
                    let fields: Vec<Value> =
                        r.fields.iter().map(|f| field(schema, f, under)).collect();
                    json!({ "type": "struct", "fields": fields })
                })
                .unwrap_or_else(|| json!({ "type": "struct", "fields": [] }));
            // Component arrays nest outermost dim first, like their msgpack form.
            let mut out = st;
            for d in shape.iter().rev() {
                out = list_of(d, item(out, None));
            }
            (out, None)
        }
        Ty::List { item: inner } => {
            let (t, md) = ty(schema, inner, false);
            (json!({ "type": "list", "item": item(t, md) }), None)
        }
        Ty::Map { value } => {
            let (t, md) = ty(schema, value, false);
            (
                json!({
                    "type": "map",
                    "key": named("key", false, json!({ "type": "utf8" }), None),
                    "value": named("value", true, t, md),
                }),
                None,
            )
        }
    }
}

fn list_of(d: &Dim, item: Value) -> Value {
    match d {
        Dim::Fixed(n) => json!({ "type": "fixed_size_list", "size": n, "item": item }),
        Dim::Named(_) | Dim::Dynamic => json!({ "type": "list", "item": item }),
    }
}

/// Arrow's name for a dtype's storage type. bf16 has no Arrow type: its raw bits travel as
/// uint16, and the field metadata says `schemac.dtype = bf16`.
pub fn primitive_name(d: Dtype) -> &'static str {
    match d {
        Dtype::Bool => "bool",
        Dtype::I8 => "int8",
        Dtype::I16 => "int16",
        Dtype::I32 => "int32",
        Dtype::I64 => "int64",
        Dtype::U8 => "uint8",
        Dtype::U16 | Dtype::Bf16 => "uint16",
        Dtype::U32 => "uint32",
        Dtype::U64 => "uint64",
        Dtype::F16 => "float16",
        Dtype::F32 => "float32",
        Dtype::F64 => "float64",
    }
}

fn primitive(d: Dtype) -> Value {
    json!({ "type": primitive_name(d) })
}

fn dtype_metadata(d: Dtype) -> Option<Value> {
    (d == Dtype::Bf16).then(|| json!({ DTYPE_KEY: "bf16" }))
}

/// A fixed shape is `arrow.fixed_shape_tensor` over `FixedSizeList<T>[product]`; a shape
/// with a named or `_` dim is `arrow.variable_shape_tensor` over
/// `Struct<data: List<T>, shape: FixedSizeList<int32>[ndim]>`, with `dim_names` when some
/// dim is named and `uniform_shape` when some dim is fixed. Extension metadata is the JSON
/// text the canonical extensions define. The storage struct's children are declared
/// nullable (they never hold nulls): with non-nullable children, pyarrow's Parquet reader
/// fails under a null slot ("Expected all lists to be of size=N") and, for files arrow-rs
/// wrote, reads the column back as its bare storage.
fn tensor(dtype: Dtype, shape: &[Dim]) -> Value {
    let value = primitive(dtype);
    let fixed: Option<Vec<u64>> = shape.iter().map(Dim::fixed).collect();
    match fixed {
        Some(dims) => {
            let size: u64 = dims.iter().product();
            json!({
                "type": "extension",
                "name": FIXED_SHAPE_TENSOR,
                "metadata": json!({ "shape": dims }).to_string(),
                "storage": { "type": "fixed_size_list", "size": size, "item": item(value, None) },
            })
        }
        None => {
            let mut md = Map::new();
            if shape.iter().any(|d| matches!(d, Dim::Named(_))) {
                let names: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
                md.insert("dim_names".into(), json!(names));
            }
            if shape.iter().any(|d| d.fixed().is_some()) {
                let uniform: Vec<Value> = shape.iter().map(|d| json!(d.fixed())).collect();
                md.insert("uniform_shape".into(), json!(uniform));
            }
            json!({
                "type": "extension",
                "name": VARIABLE_SHAPE_TENSOR,
                "metadata": Value::Object(md).to_string(),
                "storage": {
                    "type": "struct",
                    "fields": [
                        named("data", true, json!({ "type": "list", "item": item(value, None) }), None),
                        named(
                            "shape",
                            true,
                            json!({
                                "type": "fixed_size_list",
                                "size": shape.len(),
                                "item": item(json!({ "type": "int32" }), None),
                            }),
                            None,
                        ),
                    ],
                },
            })
        }
    }
}
