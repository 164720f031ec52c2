//! `schemac convert` (cargo feature `arrow`): WebDataset shards of a sample to a Parquet file
//! and back, streaming through the dynamic codec ([`crate::codec`]) a row group at a time.
//!
//! The table is the sample's Arrow mapping ([`crate::arrow`], docs/language.md "Arrow and
//! Parquet") with one more column first, `__key__` (utf8), holding each sample's shard key,
//! so that converting back gives the same keys. Memory is bounded by one row group of
//! decoded samples plus what the Parquet writer buffers for it.

use crate::arrow as mapping;
use crate::codec::{Array, ArrayForm, Codec, Value};
use crate::ir::{self, Dim, Dtype, Ty};
use arrow_array::builder::{BinaryBuilder, BooleanBuilder, StringBuilder};
use arrow_array::types::{
    Float16Type, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type,
    UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{
    Array as _, ArrayRef, BinaryArray, BooleanArray, DictionaryArray, FixedSizeListArray,
    ListArray, MapArray, PrimitiveArray, RecordBatch, StringArray, StructArray,
};
use arrow_buffer::{NullBuffer, OffsetBuffer};
use arrow_schema::{DataType, Field, FieldRef, Fields, Schema, SchemaRef};
use schemac_runtime::array::Scalar;
use schemac_runtime::shard::{ShardReader, ShardWriter};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::fs::File;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The shard-key column `convert` adds in front of the record's columns.
pub const KEY_COLUMN: &str = "__key__";

/// A conversion failure: bad input data (with the sample key), or I/O.
#[derive(Debug)]
pub struct ConvertError(pub String);

impl std::fmt::Display for ConvertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConvertError {}

fn err(msg: impl Into<String>) -> ConvertError {
    ConvertError(msg.into())
}

type Result<T> = std::result::Result<T, ConvertError>;

// -- the Arrow schema, from the mapping's JSON ---------------------------------------------

/// The Arrow schema `convert` writes for `record`: `__key__`, then the mapping's columns.
pub fn table_schema(schema: &ir::Schema, record: &ir::Record) -> Result<SchemaRef> {
    let json = mapping::record_schema(schema, record);
    let mut fields = vec![Field::new(KEY_COLUMN, DataType::Utf8, false)];
    for f in json["fields"].as_array().into_iter().flatten() {
        fields.push(field_from_json(f)?);
    }
    let metadata: HashMap<String, String> = json["metadata"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    Ok(Arc::new(Schema::new(fields).with_metadata(metadata)))
}

fn field_from_json(f: &Json) -> Result<Field> {
    let name = f["name"]
        .as_str()
        .ok_or_else(|| err("mapping: field without a name"))?;
    let nullable = f["nullable"].as_bool().unwrap_or(true);
    let ty = &f["type"];
    let mut metadata: HashMap<String, String> = f["metadata"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    let dt = if ty["type"] == "extension" {
        // Extension types travel as field metadata over their storage type (Arrow's IPC
        // and Parquet convention), which pyarrow and arrow-rs both read back.
        metadata.insert("ARROW:extension:name".into(), str_of(&ty["name"]));
        metadata.insert("ARROW:extension:metadata".into(), str_of(&ty["metadata"]));
        type_from_json(&ty["storage"])?
    } else {
        type_from_json(ty)?
    };
    Ok(Field::new(name, dt, nullable).with_metadata(metadata))
}

fn str_of(v: &Json) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn type_from_json(t: &Json) -> Result<DataType> {
    let kind = t["type"].as_str().unwrap_or_default();
    Ok(match kind {
        "bool" => DataType::Boolean,
        "int8" => DataType::Int8,
        "int16" => DataType::Int16,
        "int32" => DataType::Int32,
        "int64" => DataType::Int64,
        "uint8" => DataType::UInt8,
        "uint16" => DataType::UInt16,
        "uint32" => DataType::UInt32,
        "uint64" => DataType::UInt64,
        "float16" => DataType::Float16,
        "float32" => DataType::Float32,
        "float64" => DataType::Float64,
        "utf8" => DataType::Utf8,
        "binary" => DataType::Binary,
        "fixed_size_list" => {
            let size = t["size"].as_i64().and_then(|n| i32::try_from(n).ok());
            let size = size.ok_or_else(|| err("a fixed-size list is too long for Arrow"))?;
            DataType::FixedSizeList(Arc::new(field_from_json(&t["item"])?), size)
        }
        "list" => DataType::List(Arc::new(field_from_json(&t["item"])?)),
        "struct" => DataType::Struct(struct_fields(&t["fields"])?),
        "map" => {
            let entries = Field::new(
                "entries",
                DataType::Struct(Fields::from(vec![
                    field_from_json(&t["key"])?,
                    field_from_json(&t["value"])?,
                ])),
                false,
            );
            DataType::Map(Arc::new(entries), false)
        }
        "dictionary" => DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
        "extension" => type_from_json(&t["storage"])?,
        other => return Err(err(format!("mapping: unknown Arrow type `{other}`"))),
    })
}

fn struct_fields(fields: &Json) -> Result<Fields> {
    let fields: Result<Vec<Field>> = fields
        .as_array()
        .into_iter()
        .flatten()
        .map(field_from_json)
        .collect();
    Ok(Fields::from(fields?))
}

// -- values -> arrays ------------------------------------------------------------------------

/// One record batch of `rows` (keys and decoded samples) in `schema`'s layout.
pub fn to_record_batch(
    schema: &ir::Schema,
    record: &ir::Record,
    arrow_schema: &SchemaRef,
    keys: &[String],
    rows: &[Value],
) -> Result<RecordBatch> {
    let mut columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from_iter_values(keys))];
    for (i, f) in record.fields.iter().enumerate() {
        let values: Vec<&Value> = rows
            .iter()
            .map(|r| r.field(&f.name).unwrap_or(&Value::Nil))
            .collect();
        let field = arrow_schema.field(i + 1);
        columns.push(build(schema, &f.ty, field.data_type(), &values)?);
    }
    RecordBatch::try_new(arrow_schema.clone(), columns).map_err(|e| err(e.to_string()))
}

fn nulls(values: &[&Value]) -> Option<NullBuffer> {
    values.iter().any(|v| matches!(v, Value::Nil)).then(|| {
        NullBuffer::from(
            values
                .iter()
                .map(|v| !matches!(v, Value::Nil))
                .collect::<Vec<_>>(),
        )
    })
}

fn child_field(dt: &DataType) -> Result<FieldRef> {
    match dt {
        DataType::List(f) | DataType::FixedSizeList(f, _) | DataType::Map(f, _) => Ok(f.clone()),
        other => Err(err(format!("internal: {other} has no child field"))),
    }
}

fn build(schema: &ir::Schema, ty: &Ty, dt: &DataType, values: &[&Value]) -> Result<ArrayRef> {
    match ty {
        Ty::Scalar { dtype } => scalars(*dtype, values),
        Ty::Str => {
            let mut b = StringBuilder::new();
            for v in values {
                match v {
                    Value::Str(s) => b.append_value(s),
                    _ => b.append_null(),
                }
            }
            Ok(Arc::new(b.finish()))
        }
        Ty::Bytes => {
            let mut b = BinaryBuilder::new();
            for v in values {
                match v {
                    Value::Bytes(x) => b.append_value(x),
                    _ => b.append_null(),
                }
            }
            Ok(Arc::new(b.finish()))
        }
        Ty::Enum { name } => {
            let variants: Vec<&str> = schema
                .enums
                .iter()
                .find(|e| &e.name == name)
                .map(|e| e.variants.iter().map(|v| v.name.as_str()).collect())
                .unwrap_or_default();
            let keys: PrimitiveArray<Int32Type> = values
                .iter()
                .map(|v| match v {
                    Value::Str(s) => variants.iter().position(|n| n == s).map(|i| i as i32),
                    _ => None,
                })
                .collect();
            let dict = DictionaryArray::<Int32Type>::try_new(
                keys,
                Arc::new(StringArray::from_iter_values(variants)),
            )
            .map_err(|e| err(e.to_string()))?;
            Ok(Arc::new(dict))
        }
        Ty::Array { dtype, shape } => tensor(*dtype, shape, dt, values),
        Ty::Record { name, shape } => {
            let rec = schema
                .records
                .iter()
                .find(|r| &r.name == name)
                .ok_or_else(|| err(format!("internal: unknown record {name}")))?;
            nested_records(schema, rec, shape, dt, values)
        }
        Ty::List { item } => {
            let items: Vec<&Value> = values
                .iter()
                .flat_map(|v| match v {
                    Value::List(xs) => xs.iter().collect::<Vec<_>>(),
                    _ => Vec::new(),
                })
                .collect();
            let lengths = values.iter().map(|v| match v {
                Value::List(xs) => xs.len(),
                _ => 0,
            });
            let field = child_field(dt)?;
            let child = build(schema, item, field.data_type(), &items)?;
            let list = ListArray::try_new(
                field,
                OffsetBuffer::from_lengths(lengths),
                child,
                nulls(values),
            )
            .map_err(|e| err(e.to_string()))?;
            Ok(Arc::new(list))
        }
        Ty::Map { value } => {
            let entries = child_field(dt)?;
            let DataType::Struct(kv) = entries.data_type() else {
                return Err(err("internal: map entries are not a struct"));
            };
            let mut keys = StringBuilder::new();
            let mut items: Vec<&Value> = Vec::new();
            let mut lengths = Vec::with_capacity(values.len());
            for v in values {
                if let Value::Map(entries) = v {
                    for (k, x) in entries {
                        keys.append_value(k);
                        items.push(x);
                    }
                    lengths.push(entries.len());
                } else {
                    lengths.push(0);
                }
            }
            let item_array = build(schema, value, kv[1].data_type(), &items)?;
            let entries_array = StructArray::try_new(
                kv.clone(),
                vec![Arc::new(keys.finish()) as ArrayRef, item_array],
                None,
            )
            .map_err(|e| err(e.to_string()))?;
            let map = MapArray::try_new(
                entries,
                OffsetBuffer::from_lengths(lengths),
                entries_array,
                nulls(values),
                false,
            )
            .map_err(|e| err(e.to_string()))?;
            Ok(Arc::new(map))
        }
    }
}

fn struct_array(
    schema: &ir::Schema,
    rec: &ir::Record,
    dt: &DataType,
    values: &[&Value],
) -> Result<ArrayRef> {
    let DataType::Struct(fields) = dt else {
        return Err(err("internal: a component is not a struct"));
    };
    let mut children = Vec::with_capacity(rec.fields.len());
    for (i, f) in rec.fields.iter().enumerate() {
        let col: Vec<&Value> = values
            .iter()
            .map(|v| v.field(&f.name).unwrap_or(&Value::Nil))
            .collect();
        children.push(build(schema, &f.ty, fields[i].data_type(), &col)?);
    }
    let st = StructArray::try_new(fields.clone(), children, nulls(values))
        .map_err(|e| err(e.to_string()))?;
    Ok(Arc::new(st))
}

/// A component or component array (nested `List` values, outermost dim first).
fn nested_records(
    schema: &ir::Schema,
    rec: &ir::Record,
    shape: &[Dim],
    dt: &DataType,
    values: &[&Value],
) -> Result<ArrayRef> {
    let Some((first, rest)) = shape.split_first() else {
        return struct_array(schema, rec, dt, values);
    };
    let field = child_field(dt)?;
    let mut items: Vec<&Value> = Vec::new();
    let mut lengths = Vec::with_capacity(values.len());
    let fixed = first.fixed();
    for v in values {
        match v {
            Value::List(xs) => {
                items.extend(xs.iter());
                lengths.push(xs.len());
            }
            _ => {
                // A null slot of a fixed-size list still holds `size` (null) children.
                let n = fixed.unwrap_or(0) as usize;
                items.extend(std::iter::repeat_n(&Value::Nil, n));
                lengths.push(n);
            }
        }
    }
    let child = nested_records(schema, rec, rest, field.data_type(), &items)?;
    let arr: ArrayRef = match fixed {
        Some(n) => Arc::new(
            FixedSizeListArray::try_new(field, n as i32, child, nulls(values))
                .map_err(|e| err(e.to_string()))?,
        ),
        None => Arc::new(
            ListArray::try_new(
                field,
                OffsetBuffer::from_lengths(lengths),
                child,
                nulls(values),
            )
            .map_err(|e| err(e.to_string()))?,
        ),
    };
    Ok(arr)
}

macro_rules! prim_scalars {
    ($t:ty, $values:expr, $conv:expr) => {{
        let arr: PrimitiveArray<$t> = $values
            .iter()
            .map(|v| match v {
                Value::Scalar(s) => Some($conv(*s)),
                _ => None,
            })
            .collect();
        Ok(Arc::new(arr) as ArrayRef)
    }};
}

fn as_i64(s: Scalar) -> i64 {
    match s {
        Scalar::Int(i) => i,
        Scalar::UInt(u) => u as i64,
        Scalar::Bool(b) => i64::from(b),
        Scalar::Float(f) => f as i64,
    }
}

fn as_u64(s: Scalar) -> u64 {
    match s {
        Scalar::Int(i) => i as u64,
        Scalar::UInt(u) => u,
        Scalar::Bool(b) => u64::from(b),
        Scalar::Float(f) => f as u64,
    }
}

fn as_f64(s: Scalar) -> f64 {
    match s {
        Scalar::Int(i) => i as f64,
        Scalar::UInt(u) => u as f64,
        Scalar::Bool(b) => f64::from(u8::from(b)),
        Scalar::Float(f) => f,
    }
}

fn scalars(dtype: Dtype, values: &[&Value]) -> Result<ArrayRef> {
    match dtype {
        Dtype::Bool => {
            let mut b = BooleanBuilder::new();
            for v in values {
                match v {
                    Value::Scalar(Scalar::Bool(x)) => b.append_value(*x),
                    _ => b.append_null(),
                }
            }
            Ok(Arc::new(b.finish()))
        }
        Dtype::I8 => prim_scalars!(Int8Type, values, |s| as_i64(s) as i8),
        Dtype::I16 => prim_scalars!(Int16Type, values, |s| as_i64(s) as i16),
        Dtype::I32 => prim_scalars!(Int32Type, values, |s| as_i64(s) as i32),
        Dtype::I64 => prim_scalars!(Int64Type, values, as_i64),
        Dtype::U8 => prim_scalars!(UInt8Type, values, |s| as_u64(s) as u8),
        Dtype::U16 => prim_scalars!(UInt16Type, values, |s| as_u64(s) as u16),
        Dtype::U32 => prim_scalars!(UInt32Type, values, |s| as_u64(s) as u32),
        Dtype::U64 => prim_scalars!(UInt64Type, values, as_u64),
        Dtype::F16 => prim_scalars!(Float16Type, values, |s| {
            schemac_runtime::array::f16_from_f64(as_f64(s))
        }),
        Dtype::Bf16 => prim_scalars!(UInt16Type, values, |s| half::bf16::from_f64(as_f64(s))
            .to_bits()),
        Dtype::F32 => prim_scalars!(Float32Type, values, |s| as_f64(s) as f32),
        Dtype::F64 => prim_scalars!(Float64Type, values, as_f64),
    }
}

/// The element bytes of a tensor's values, as an Arrow primitive array of `dtype` (bf16 as
/// its uint16 bits; the data is little-endian, like Arrow's buffers).
fn elements(dtype: Dtype, data: Vec<u8>) -> ArrayRef {
    fn prim<T: arrow_array::ArrowPrimitiveType>(data: Vec<u8>) -> ArrayRef {
        // Copied into an Arrow buffer (64-byte aligned), which a typed view needs.
        let mut m = arrow_buffer::MutableBuffer::new(data.len());
        m.extend_from_slice(&data);
        let n = data.len() / std::mem::size_of::<T::Native>();
        let buf = arrow_buffer::Buffer::from(m);
        Arc::new(PrimitiveArray::<T>::new(
            arrow_buffer::ScalarBuffer::new(buf, 0, n),
            None,
        ))
    }
    match dtype {
        Dtype::Bool => Arc::new(BooleanArray::from(
            data.iter().map(|b| *b != 0).collect::<Vec<_>>(),
        )),
        Dtype::I8 => prim::<Int8Type>(data),
        Dtype::I16 => prim::<Int16Type>(data),
        Dtype::I32 => prim::<Int32Type>(data),
        Dtype::I64 => prim::<Int64Type>(data),
        Dtype::U8 => prim::<UInt8Type>(data),
        Dtype::U16 | Dtype::Bf16 => prim::<UInt16Type>(data),
        Dtype::U32 => prim::<UInt32Type>(data),
        Dtype::U64 => prim::<UInt64Type>(data),
        Dtype::F16 => prim::<Float16Type>(data),
        Dtype::F32 => prim::<Float32Type>(data),
        Dtype::F64 => prim::<Float64Type>(data),
    }
}

/// The Arrow type of a dtype's elements (bf16: its uint16 bits).
fn element_type(dtype: Dtype) -> DataType {
    match dtype {
        Dtype::Bool => DataType::Boolean,
        Dtype::I8 => DataType::Int8,
        Dtype::I16 => DataType::Int16,
        Dtype::I32 => DataType::Int32,
        Dtype::I64 => DataType::Int64,
        Dtype::U8 => DataType::UInt8,
        Dtype::U16 | Dtype::Bf16 => DataType::UInt16,
        Dtype::U32 => DataType::UInt32,
        Dtype::U64 => DataType::UInt64,
        Dtype::F16 => DataType::Float16,
        Dtype::F32 => DataType::Float32,
        Dtype::F64 => DataType::Float64,
    }
}

fn tensor(dtype: Dtype, shape: &[Dim], dt: &DataType, values: &[&Value]) -> Result<ArrayRef> {
    let fixed: Option<Vec<u64>> = shape.iter().map(Dim::fixed).collect();
    let width = dtype.size() as usize;
    match fixed {
        Some(dims) => {
            let count = dims.iter().product::<u64>() as usize;
            let mut data = Vec::with_capacity(values.len() * count * width);
            for v in values {
                match v {
                    Value::Array(a) if a.data.len() == count * width => {
                        data.extend_from_slice(&a.data)
                    }
                    Value::Array(_) => return Err(err("internal: an array of the wrong size")),
                    _ => data.resize(data.len() + count * width, 0),
                }
            }
            let field = child_field(dt)?;
            let list = FixedSizeListArray::try_new(
                field,
                count as i32,
                elements(dtype, data),
                nulls(values),
            )
            .map_err(|e| err(e.to_string()))?;
            Ok(Arc::new(list))
        }
        None => {
            let DataType::Struct(parts) = dt else {
                return Err(err("internal: a variable-shape tensor is not a struct"));
            };
            let mut data = Vec::new();
            let mut lengths = Vec::with_capacity(values.len());
            let mut shapes: Vec<i32> = Vec::with_capacity(values.len() * shape.len());
            for v in values {
                match v {
                    Value::Array(a) => {
                        data.extend_from_slice(&a.data);
                        lengths.push(a.data.len() / width);
                        for d in &a.shape {
                            shapes.push(
                                i32::try_from(*d).map_err(|_| {
                                    err("a dim is too large for Arrow's int32 shape")
                                })?,
                            );
                        }
                    }
                    _ => {
                        lengths.push(0);
                        shapes.extend(std::iter::repeat_n(0, shape.len()));
                    }
                }
            }
            let data_field = child_field(parts[0].data_type())?;
            let data = ListArray::try_new(
                data_field,
                OffsetBuffer::from_lengths(lengths),
                elements(dtype, data),
                None,
            )
            .map_err(|e| err(e.to_string()))?;
            let shape_field = child_field(parts[1].data_type())?;
            let shape_arr = FixedSizeListArray::try_new(
                shape_field,
                shape.len() as i32,
                Arc::new(PrimitiveArray::<Int32Type>::from(shapes)),
                None,
            )
            .map_err(|e| err(e.to_string()))?;
            let st = StructArray::try_new(
                parts.clone(),
                vec![Arc::new(data) as ArrayRef, Arc::new(shape_arr)],
                nulls(values),
            )
            .map_err(|e| err(e.to_string()))?;
            Ok(Arc::new(st))
        }
    }
}

// -- arrays -> values ------------------------------------------------------------------------

/// The samples of one record batch (keys from `__key__`, or `None` when it is absent).
pub fn from_record_batch(
    schema: &ir::Schema,
    record: &ir::Record,
    batch: &RecordBatch,
) -> Result<(Vec<Option<String>>, Vec<Value>)> {
    let n = batch.num_rows();
    let keys: Vec<Option<String>> = match batch.column_by_name(KEY_COLUMN) {
        Some(col) => {
            let s = col
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| err("the __key__ column is not utf8"))?;
            (0..n)
                .map(|i| s.is_valid(i).then(|| s.value(i).to_string()))
                .collect()
        }
        None => vec![None; n],
    };
    let mut columns = Vec::with_capacity(record.fields.len());
    for f in &record.fields {
        let col = match batch.column_by_name(&f.name) {
            Some(c) => read(schema, &f.ty, c.as_ref(), &f.name)?,
            None if f.optional => vec![Value::Nil; n],
            None => return Err(err(format!("the table has no column `{}`", f.name))),
        };
        columns.push(col);
    }
    let mut rows = Vec::with_capacity(n);
    let mut iters: Vec<_> = columns.into_iter().map(Vec::into_iter).collect();
    for _ in 0..n {
        let fields = record
            .fields
            .iter()
            .zip(iters.iter_mut())
            .map(|(f, it)| (f.name.clone(), it.next().unwrap_or(Value::Nil)))
            .collect();
        rows.push(Value::Record(fields));
    }
    Ok((keys, rows))
}

fn downcast<'a, T: 'static>(a: &'a dyn arrow_array::Array, path: &str) -> Result<&'a T> {
    a.as_any().downcast_ref::<T>().ok_or_else(|| {
        err(format!(
            "column `{path}`: {} is not the mapped Arrow type",
            a.data_type()
        ))
    })
}

/// One value per row of `a`: `f(i)` where row `i` is valid, `Nil` where it is null.
fn per_row(a: &dyn arrow_array::Array, mut f: impl FnMut(usize) -> Value) -> Vec<Value> {
    (0..a.len())
        .map(|i| if a.is_valid(i) { f(i) } else { Value::Nil })
        .collect()
}

fn read(
    schema: &ir::Schema,
    ty: &Ty,
    a: &dyn arrow_array::Array,
    path: &str,
) -> Result<Vec<Value>> {
    let n = a.len();
    let valid = |i: usize| a.is_valid(i);
    Ok(match ty {
        Ty::Scalar { dtype } => read_scalars(*dtype, a, path)?,
        Ty::Str => {
            let s = downcast::<StringArray>(a, path)?;
            per_row(a, |i| Value::Str(s.value(i).to_string()))
        }
        Ty::Bytes => {
            let s = downcast::<BinaryArray>(a, path)?;
            per_row(a, |i| Value::Bytes(s.value(i).to_vec()))
        }
        Ty::Enum { .. } => {
            let d = downcast::<DictionaryArray<Int32Type>>(a, path)?;
            let names = downcast::<StringArray>(d.values().as_ref(), path)?;
            (0..n)
                .map(|i| {
                    let k = d.keys().value(i) as usize;
                    if valid(i) && k < names.len() {
                        Value::Str(names.value(k).to_string())
                    } else {
                        Value::Nil
                    }
                })
                .collect()
        }
        Ty::Array { dtype, shape } => read_tensors(*dtype, shape, a, path)?,
        Ty::Record { name, shape } => {
            let rec = schema
                .records
                .iter()
                .find(|r| &r.name == name)
                .ok_or_else(|| err(format!("internal: unknown record {name}")))?;
            read_records(schema, rec, shape, a, path)?
        }
        Ty::List { item } => {
            let l = downcast::<ListArray>(a, path)?;
            let child = read(schema, item, l.values().as_ref(), path)?;
            let offs = l.value_offsets();
            (0..n)
                .map(|i| {
                    if valid(i) {
                        Value::List(child[offs[i] as usize..offs[i + 1] as usize].to_vec())
                    } else {
                        Value::Nil
                    }
                })
                .collect()
        }
        Ty::Map { value } => {
            let m = downcast::<MapArray>(a, path)?;
            let keys = downcast::<StringArray>(m.keys().as_ref(), path)?;
            let items = read(schema, value, m.values().as_ref(), path)?;
            let offs = m.value_offsets();
            (0..n)
                .map(|i| {
                    if !valid(i) {
                        return Value::Nil;
                    }
                    let range = offs[i] as usize..offs[i + 1] as usize;
                    let mut entries: Vec<(String, Value)> = range
                        .map(|j| (keys.value(j).to_string(), items[j].clone()))
                        .collect();
                    entries.sort_by(|x, y| x.0.cmp(&y.0));
                    Value::Map(entries)
                })
                .collect()
        }
    })
}

fn read_records(
    schema: &ir::Schema,
    rec: &ir::Record,
    shape: &[Dim],
    a: &dyn arrow_array::Array,
    path: &str,
) -> Result<Vec<Value>> {
    let n = a.len();
    let Some((first, rest)) = shape.split_first() else {
        let st = downcast::<StructArray>(a, path)?;
        let mut cols = Vec::with_capacity(rec.fields.len());
        for (i, f) in rec.fields.iter().enumerate() {
            cols.push(read(
                schema,
                &f.ty,
                st.column(i).as_ref(),
                &format!("{path}.{}", f.name),
            )?);
        }
        return Ok((0..n)
            .map(|r| {
                if st.is_valid(r) {
                    Value::Record(
                        rec.fields
                            .iter()
                            .zip(&cols)
                            .map(|(f, c)| (f.name.clone(), c[r].clone()))
                            .collect(),
                    )
                } else {
                    Value::Nil
                }
            })
            .collect());
    };
    let (child, offs): (Vec<Value>, Vec<usize>) = if let Some(d) = first.fixed() {
        let l = downcast::<FixedSizeListArray>(a, path)?;
        let values = l.values().slice(l.offset() * d as usize, n * d as usize);
        (
            read_records(schema, rec, rest, values.as_ref(), path)?,
            (0..=n).map(|i| i * d as usize).collect(),
        )
    } else {
        let l = downcast::<ListArray>(a, path)?;
        let offs = l.value_offsets().iter().map(|o| *o as usize).collect();
        (
            read_records(schema, rec, rest, l.values().as_ref(), path)?,
            offs,
        )
    };
    Ok((0..n)
        .map(|i| {
            if a.is_valid(i) {
                Value::List(child[offs[i]..offs[i + 1]].to_vec())
            } else {
                Value::Nil
            }
        })
        .collect())
}

macro_rules! read_prim {
    ($t:ty, $a:expr, $path:expr, $mk:expr) => {{
        let p = downcast::<PrimitiveArray<$t>>($a, $path)?;
        (0..p.len())
            .map(|i| {
                if p.is_valid(i) {
                    Value::Scalar($mk(p.value(i)))
                } else {
                    Value::Nil
                }
            })
            .collect()
    }};
}

fn read_scalars(dtype: Dtype, a: &dyn arrow_array::Array, path: &str) -> Result<Vec<Value>> {
    Ok(match dtype {
        Dtype::Bool => {
            let b = downcast::<BooleanArray>(a, path)?;
            (0..b.len())
                .map(|i| {
                    if b.is_valid(i) {
                        Value::Scalar(Scalar::Bool(b.value(i)))
                    } else {
                        Value::Nil
                    }
                })
                .collect()
        }
        Dtype::I8 => read_prim!(Int8Type, a, path, |x: i8| Scalar::Int(i64::from(x))),
        Dtype::I16 => read_prim!(Int16Type, a, path, |x: i16| Scalar::Int(i64::from(x))),
        Dtype::I32 => read_prim!(Int32Type, a, path, |x: i32| Scalar::Int(i64::from(x))),
        Dtype::I64 => read_prim!(Int64Type, a, path, Scalar::Int),
        Dtype::U8 => read_prim!(UInt8Type, a, path, |x: u8| Scalar::UInt(u64::from(x))),
        Dtype::U16 => read_prim!(UInt16Type, a, path, |x: u16| Scalar::UInt(u64::from(x))),
        Dtype::U32 => read_prim!(UInt32Type, a, path, |x: u32| Scalar::UInt(u64::from(x))),
        Dtype::U64 => read_prim!(UInt64Type, a, path, Scalar::UInt),
        Dtype::F16 => read_prim!(Float16Type, a, path, |x: half::f16| Scalar::Float(
            x.to_f64()
        )),
        Dtype::Bf16 => read_prim!(UInt16Type, a, path, |x: u16| Scalar::Float(
            half::bf16::from_bits(x).to_f64()
        )),
        Dtype::F32 => read_prim!(Float32Type, a, path, |x: f32| Scalar::Float(f64::from(x))),
        Dtype::F64 => read_prim!(Float64Type, a, path, Scalar::Float),
    })
}

/// The little-endian element bytes of `a[start..start + count]`, a primitive (or bool) array.
fn element_bytes(
    dtype: Dtype,
    a: &dyn arrow_array::Array,
    start: usize,
    count: usize,
    path: &str,
) -> Result<Vec<u8>> {
    if dtype == Dtype::Bool {
        let b = downcast::<BooleanArray>(a, path)?;
        return Ok((start..start + count)
            .map(|i| u8::from(b.value(i)))
            .collect());
    }
    let width = dtype.size() as usize;
    let data = a.to_data();
    let buf = data
        .buffers()
        .first()
        .ok_or_else(|| err(format!("column `{path}`: no values buffer")))?;
    let begin = (data.offset() + start) * width;
    let end = begin + count * width;
    if end > buf.len() {
        return Err(err(format!("column `{path}`: values buffer too short")));
    }
    if a.data_type() != &element_type(dtype) {
        return Err(err(format!(
            "column `{path}`: {} values where the schema has {}",
            a.data_type(),
            dtype.name()
        )));
    }
    Ok(buf.as_slice()[begin..end].to_vec())
}

fn read_tensors(
    dtype: Dtype,
    shape: &[Dim],
    a: &dyn arrow_array::Array,
    path: &str,
) -> Result<Vec<Value>> {
    let n = a.len();
    let fixed: Option<Vec<u64>> = shape.iter().map(Dim::fixed).collect();
    let mut out = Vec::with_capacity(n);
    match fixed {
        Some(dims) => {
            let l = downcast::<FixedSizeListArray>(a, path)?;
            let count = dims.iter().product::<u64>() as usize;
            let dims: Vec<usize> = dims.iter().map(|d| *d as usize).collect();
            for i in 0..n {
                if !l.is_valid(i) {
                    out.push(Value::Nil);
                    continue;
                }
                let data = element_bytes(
                    dtype,
                    l.values().as_ref(),
                    (l.offset() + i) * count,
                    count,
                    path,
                )?;
                out.push(Value::Array(Array {
                    dtype,
                    shape: dims.clone(),
                    data,
                }));
            }
        }
        None => {
            let st = downcast::<StructArray>(a, path)?;
            let data = downcast::<ListArray>(st.column(0).as_ref(), path)?;
            let shapes = downcast::<FixedSizeListArray>(st.column(1).as_ref(), path)?;
            let shape_values =
                downcast::<PrimitiveArray<Int32Type>>(shapes.values().as_ref(), path)?;
            let offs = data.value_offsets();
            let ndim = shape.len();
            if shapes.value_length() as usize != ndim
                || shape_values.len() < (shapes.offset() + n) * ndim
            {
                return Err(err(format!("column `{path}`: shapes of the wrong rank")));
            }
            for i in 0..n {
                if !st.is_valid(i) {
                    out.push(Value::Nil);
                    continue;
                }
                let base = (shapes.offset() + i) * ndim;
                let mut dims = Vec::with_capacity(ndim);
                for k in 0..ndim {
                    let d = shape_values.value(base + k);
                    dims.push(
                        usize::try_from(d)
                            .map_err(|_| err(format!("column `{path}`: negative dim {d}")))?,
                    );
                }
                let (s, e) = (offs[i] as usize, offs[i + 1] as usize);
                if dims.iter().product::<usize>() != e - s {
                    return Err(err(format!(
                        "column `{path}` row {i}: shape {dims:?} does not match {} elements",
                        e - s
                    )));
                }
                let bytes = element_bytes(dtype, data.values().as_ref(), s, e - s, path)?;
                out.push(Value::Array(Array {
                    dtype,
                    shape: dims,
                    data: bytes,
                }));
            }
        }
    }
    Ok(out)
}

// -- the two conversions ---------------------------------------------------------------------

/// Progress on a terminal: a count of samples, rewritten in place.
struct Progress {
    on: bool,
    n: u64,
}

impl Progress {
    fn new() -> Self {
        Progress {
            on: std::io::stderr().is_terminal(),
            n: 0,
        }
    }
    fn add(&mut self, k: u64) {
        self.n += k;
        if self.on {
            eprint!("\r{} samples", self.n);
            let _ = std::io::stderr().flush();
        }
    }
    fn done(&self) {
        if self.on {
            eprintln!();
        }
    }
}

/// Shards → one Parquet file, `row_group` samples per row group. Returns the sample count.
pub fn shards_to_parquet(
    codec: &Codec<'_>,
    shards: &[PathBuf],
    out: &Path,
    row_group: usize,
) -> Result<u64> {
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;
    let (schema, record) = (codec.schema(), codec.record());
    let arrow_schema = table_schema(schema, record)?;
    let file = File::create(out).map_err(|e| err(format!("{}: {e}", out.display())))?;
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(row_group.max(1)))
        .build();
    let mut writer = ArrowWriter::try_new(file, arrow_schema.clone(), Some(props))
        .map_err(|e| err(e.to_string()))?;
    let mut progress = Progress::new();
    let (mut keys, mut rows) = (Vec::new(), Vec::new());
    let flush = |keys: &mut Vec<String>,
                 rows: &mut Vec<Value>,
                 writer: &mut ArrowWriter<File>|
     -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let batch = to_record_batch(schema, record, &arrow_schema, keys, rows)?;
        writer.write(&batch).map_err(|e| err(e.to_string()))?;
        keys.clear();
        rows.clear();
        Ok(())
    };
    for member in ShardReader::new(shards) {
        let (key, bytes) = member.map_err(|e| err(e.to_string()))?;
        let value = codec
            .from_msgpack(&bytes)
            .map_err(|e| err(format!("sample `{key}`: {e}")))?;
        keys.push(key);
        rows.push(value);
        progress.add(1);
        if rows.len() >= row_group.max(1) {
            flush(&mut keys, &mut rows, &mut writer)?;
        }
    }
    flush(&mut keys, &mut rows, &mut writer)?;
    writer.close().map_err(|e| err(e.to_string()))?;
    progress.done();
    Ok(progress.n)
}

/// One Parquet file → shards `<prefix>-000000.tar`, ... (at most `per_shard` samples each,
/// deterministic headers). Keys come from `__key__`, or are numbered when it is absent.
/// Refuses a file of another record or layout fingerprint.
pub fn parquet_to_shards(
    codec: &Codec<'_>,
    input: &Path,
    prefix: &Path,
    per_shard: u64,
) -> Result<Vec<PathBuf>> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let (schema, record) = (codec.schema(), codec.record());
    let file = File::open(input).map_err(|e| err(format!("{}: {e}", input.display())))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| err(e.to_string()))?;
    let md = builder.schema().metadata();
    if let Some(name) = md.get("schemac.record") {
        if name != &record.name {
            return Err(err(format!(
                "{} holds `{name}` samples, not `{}`",
                input.display(),
                record.name
            )));
        }
    }
    if let Some(fp) = md.get("schemac.fingerprint") {
        if fp != &record.fingerprint {
            return Err(err(format!(
                "{}: layout fingerprint {fp} is not {} (the schema changed since it was written)",
                input.display(),
                record.fingerprint
            )));
        }
    }
    let reader = builder
        .with_batch_size(1024)
        .build()
        .map_err(|e| err(e.to_string()))?;
    let mut writer = ShardWriter::new(prefix)
        .max_samples(per_shard)
        .deterministic(true);
    let mut progress = Progress::new();
    for batch in reader {
        let batch = batch.map_err(|e| err(e.to_string()))?;
        let (keys, rows) = from_record_batch(schema, record, &batch)?;
        for (key, value) in keys.into_iter().zip(rows) {
            let label = key.clone().unwrap_or_else(|| format!("row {}", progress.n));
            let bytes = codec
                .to_msgpack(&value, ArrayForm::Atdata)
                .map_err(|e| err(format!("sample `{label}`: {e}")))?;
            match key {
                Some(k) => writer.write(&k, &bytes).map_err(|e| err(e.to_string()))?,
                None => {
                    writer.write_auto(&bytes).map_err(|e| err(e.to_string()))?;
                }
            }
            progress.add(1);
        }
    }
    progress.done();
    writer.finish().map_err(|e| err(e.to_string()))
}
