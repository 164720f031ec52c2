//! Element dtypes: names, sizes, numpy typestrs and names. Shared by the compiler's IR and
//! by generated code, so both spell a dtype the same way.

use serde::{Deserialize, Serialize};

/// Element dtypes of arrays and scalars.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dtype {
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F16,
    Bf16,
    F32,
    F64,
}

impl Dtype {
    pub const ALL: [Dtype; 13] = [
        Dtype::Bool,
        Dtype::I8,
        Dtype::I16,
        Dtype::I32,
        Dtype::I64,
        Dtype::U8,
        Dtype::U16,
        Dtype::U32,
        Dtype::U64,
        Dtype::F16,
        Dtype::Bf16,
        Dtype::F32,
        Dtype::F64,
    ];

    /// The schema spelling: `bool`, `i8`, ..., `bf16`.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::Bool => "bool",
            Dtype::I8 => "i8",
            Dtype::I16 => "i16",
            Dtype::I32 => "i32",
            Dtype::I64 => "i64",
            Dtype::U8 => "u8",
            Dtype::U16 => "u16",
            Dtype::U32 => "u32",
            Dtype::U64 => "u64",
            Dtype::F16 => "f16",
            Dtype::Bf16 => "bf16",
            Dtype::F32 => "f32",
            Dtype::F64 => "f64",
        }
    }

    pub fn from_name(name: &str) -> Option<Dtype> {
        Dtype::ALL.into_iter().find(|d| d.name() == name)
    }

    /// Bytes per element.
    pub fn size(self) -> u64 {
        match self {
            Dtype::Bool | Dtype::I8 | Dtype::U8 => 1,
            Dtype::I16 | Dtype::U16 | Dtype::F16 | Dtype::Bf16 => 2,
            Dtype::I32 | Dtype::U32 | Dtype::F32 => 4,
            Dtype::I64 | Dtype::U64 | Dtype::F64 => 8,
        }
    }

    /// The widest `@bits` the dtype allows: 1 for bool, its width for integers (capped at
    /// 32 by the language), `None` for floats.
    pub fn max_bits(self) -> Option<u32> {
        match self {
            Dtype::Bool => Some(1),
            d if d.is_int() => Some((d.size() * 8).min(32) as u32),
            _ => None,
        }
    }

    pub fn is_int(self) -> bool {
        matches!(
            self,
            Dtype::I8
                | Dtype::I16
                | Dtype::I32
                | Dtype::I64
                | Dtype::U8
                | Dtype::U16
                | Dtype::U32
                | Dtype::U64
        )
    }

    pub fn is_signed(self) -> bool {
        matches!(self, Dtype::I8 | Dtype::I16 | Dtype::I32 | Dtype::I64)
    }

    pub fn is_float(self) -> bool {
        matches!(self, Dtype::F16 | Dtype::Bf16 | Dtype::F32 | Dtype::F64)
    }

    /// numpy's array-interface typestr (bf16 is `<V2`, as atdata writes it).
    pub fn typestr(self) -> &'static str {
        match self {
            Dtype::Bool => "|b1",
            Dtype::I8 => "|i1",
            Dtype::I16 => "<i2",
            Dtype::I32 => "<i4",
            Dtype::I64 => "<i8",
            Dtype::U8 => "|u1",
            Dtype::U16 => "<u2",
            Dtype::U32 => "<u4",
            Dtype::U64 => "<u8",
            Dtype::F16 => "<f2",
            Dtype::Bf16 => "<V2",
            Dtype::F32 => "<f4",
            Dtype::F64 => "<f8",
        }
    }

    /// numpy's dtype name (`float32`, `uint8`, ...); bf16 is `bfloat16` (ml_dtypes).
    pub fn numpy_name(self) -> &'static str {
        match self {
            Dtype::Bool => "bool",
            Dtype::I8 => "int8",
            Dtype::I16 => "int16",
            Dtype::I32 => "int32",
            Dtype::I64 => "int64",
            Dtype::U8 => "uint8",
            Dtype::U16 => "uint16",
            Dtype::U32 => "uint32",
            Dtype::U64 => "uint64",
            Dtype::F16 => "float16",
            Dtype::Bf16 => "bfloat16",
            Dtype::F32 => "float32",
            Dtype::F64 => "float64",
        }
    }

    /// The smallest unsigned dtype that holds `max`.
    pub fn smallest_unsigned(max: u64) -> Dtype {
        if max <= u64::from(u8::MAX) {
            Dtype::U8
        } else if max <= u64::from(u16::MAX) {
            Dtype::U16
        } else if max <= u64::from(u32::MAX) {
            Dtype::U32
        } else {
            Dtype::U64
        }
    }
    /// Parse a numpy typestr as numpy writes it (`<f4`, `|u1`, bf16's `<V2` or `|V2`).
    pub fn from_typestr(s: &str) -> Option<Dtype> {
        // Only the spellings numpy writes (`|V2` is numpy's own for a 2-byte void, `<V2`
        // ml_dtypes'): `>f4`, `=f4` and bare `f4` are refused, as in the Python runtime
        // (docs/language.md, "Rejections both runtimes agree on").
        if s == "|V2" {
            return Some(Dtype::Bf16);
        }
        Dtype::ALL.into_iter().find(|d| d.typestr() == s)
    }

    /// Parse a numpy dtype name (`float32`) or typestr (`<f4`).
    pub fn from_numpy(s: &str) -> Option<Dtype> {
        Dtype::ALL
            .into_iter()
            .find(|d| d.numpy_name() == s)
            .or_else(|| Dtype::from_typestr(s))
    }
}

impl std::fmt::Display for Dtype {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Runs `$body` with `$T` a type alias for the Rust element type of the runtime
/// [`Dtype`](crate::Dtype) value `$dtype`: how code driven by a dtype known only at run
/// time (the dynamic codec, tests) reaches the typed [`NdArray`](crate::NdArray) API.
#[macro_export]
macro_rules! with_dtype {
    ($dtype:expr, $T:ident => $body:expr) => {
        match $dtype {
            $crate::Dtype::Bool => {
                type $T = bool;
                $body
            }
            $crate::Dtype::I8 => {
                type $T = i8;
                $body
            }
            $crate::Dtype::I16 => {
                type $T = i16;
                $body
            }
            $crate::Dtype::I32 => {
                type $T = i32;
                $body
            }
            $crate::Dtype::I64 => {
                type $T = i64;
                $body
            }
            $crate::Dtype::U8 => {
                type $T = u8;
                $body
            }
            $crate::Dtype::U16 => {
                type $T = u16;
                $body
            }
            $crate::Dtype::U32 => {
                type $T = u32;
                $body
            }
            $crate::Dtype::U64 => {
                type $T = u64;
                $body
            }
            $crate::Dtype::F16 => {
                type $T = $crate::half::f16;
                $body
            }
            $crate::Dtype::Bf16 => {
                type $T = $crate::half::bf16;
                $body
            }
            $crate::Dtype::F32 => {
                type $T = f32;
                $body
            }
            $crate::Dtype::F64 => {
                type $T = f64;
                $body
            }
        }
    };
}
