//! `@packed` fields: a field stored as its `N` packed bytes, the ordinary array (or
//! scalar) on the wire; the conversions between the two, checked (`pack*`) or trusted
//! (values already known to fit), and the readers and writers that convert on the way.

use super::*;

/// A random `@packed` array of `n` elements (fixed shape), packed.
pub fn random_packed<T: Element + BitElement, const N: usize>(
    rng: &mut Rng,
    n: usize,
    bits: u32,
    range: Option<(f64, f64)>,
) -> [u8; N] {
    let values: Vec<T> = (0..n).map(|_| T::random(rng, Some(bits), range)).collect();
    pack_trusted(&values, bits)
}

fn bits_error(e: BitsError) -> Error {
    match e {
        // At the field, not the element (conformance/README.md: `@bits` and `@range`
        // errors on an array name the field).
        BitsError::Overflow { value, bits, .. } => {
            Error::new(ErrorKind::BitsOverflow { value, bits })
        }
        other => Error::new(ErrorKind::Unsupported(other.to_string())),
    }
}

/// Packs `values` into a `@packed` field's `N` bytes; `BitsOverflow` when one does not fit, `PayloadLength` when `N` bytes cannot hold them.
pub fn pack<T: BitElement, const N: usize>(values: &[T], bits: u32) -> Result<[u8; N]> {
    let mut out = [0u8; N];
    if bits::bytes_for(values.len(), bits) != N {
        return Err(Error::new(ErrorKind::PayloadLength {
            expected: N as u128,
            found: bits::bytes_for(values.len(), bits) as u64,
        }));
    }
    bits::pack_bytes_into(values, bits, &mut out).map_err(bits_error)?;
    Ok(out)
}

/// [`pack`] for values already known to fit (random or validated ones); a value that does
/// not fit leaves the bytes zero (debug builds assert).
fn pack_trusted<T: BitElement, const N: usize>(values: &[T], bits: u32) -> [u8; N] {
    let r = pack::<T, N>(values, bits);
    debug_assert!(r.is_ok(), "pack_trusted: {r:?}");
    r.unwrap_or([0u8; N])
}

/// The values of a `@packed` field (`n` of them). Cannot fail for the bytes a generated
/// struct holds: `@bits` never exceeds the dtype's width and `N` bytes hold `n` values.
pub fn unpack<T: BitElement + Default>(bytes: &[u8], n: usize, bits: u32) -> Vec<T> {
    let mut out = vec![T::default(); n];
    let r = bits::unpack_bytes(bytes, bits, &mut out);
    debug_assert!(r.is_ok(), "unpack: {r:?}");
    out
}

/// A `@packed` array field, unpacked into an array of `shape`.
pub fn unpack_array<T: Element + BitElement>(
    bytes: &[u8],
    shape: &[usize],
    bits: u32,
) -> NdArray<T> {
    let n = shape.iter().product();
    let data = unpack(bytes, n, bits);
    NdArray::new(shape.to_vec(), data).unwrap_or_default()
}

/// A `@packed` scalar field's value.
#[inline]
pub fn unpack_scalar<T: BitElement + Default>(bytes: &[u8], bits: u32) -> T {
    bits::try_get_byte_stream(bytes, bits, 0).unwrap_or_default()
}

/// Packs an array for a `@packed` field after checking its shape against `spec` (all
/// fixed): what the `set_<field>_unpacked` setters and JSON readers call.
pub fn pack_array<T: Element + BitElement, const N: usize>(
    a: &NdArray<T>,
    spec: &[DimSpec],
    bits: u32,
) -> Result<[u8; N]> {
    check_shape(spec, a.shape(), &mut DimTable::new())?;
    pack(a.as_slice(), bits)
}

/// Packs a `@packed` scalar.
#[inline]
pub fn pack_scalar<T: BitElement, const N: usize>(v: T, bits: u32) -> Result<[u8; N]> {
    pack(&[v], bits)
}

/// Packs a validated view (see [`read_packed_view`]) for `to_owned`.
pub fn pack_view<T: Element + BitElement, const N: usize>(
    v: &ArrayView<'_, T>,
    bits: u32,
) -> [u8; N] {
    let values: Vec<T> = v.iter().collect();
    pack_trusted(&values, bits)
}

/// Packs a validated scalar (see [`read_packed_scalar_value`]) for `to_owned`.
#[inline]
pub fn pack_scalar_trusted<T: BitElement, const N: usize>(v: T, bits: u32) -> [u8; N] {
    pack_trusted(&[v], bits)
}

/// Reads a `@packed` array field: the ordinary array on the wire, packed on arrival.
pub fn read_packed<T: Element + BitElement, const N: usize>(
    r: &mut Reader<'_>,
    spec: &[DimSpec],
    dims: &mut DimTable,
    bits: u32,
) -> Result<[u8; N]> {
    let a = read_array::<T>(r, spec, dims)?;
    pack(a.as_slice(), bits)
}

/// Reads a `@packed` scalar field.
pub fn read_packed_scalar<T: Element + BitElement, const N: usize>(
    r: &mut Reader<'_>,
    bits: u32,
) -> Result<[u8; N]> {
    let v = r.scalar::<T>()?;
    pack(&[v], bits)
}

/// Reads a `@packed` array field as a view of the wire array, checking every value fits.
pub fn read_packed_view<'a, T: Element + BitElement>(
    r: &mut Reader<'a>,
    spec: &[DimSpec],
    dims: &mut DimTable,
    bits: u32,
) -> Result<ArrayView<'a, T>> {
    let a = read_array_view::<T>(r, spec, dims)?;
    for (i, v) in a.iter().enumerate() {
        if !v.fits(bits) {
            return Err(Error::new(ErrorKind::BitsOverflow {
                value: v.to_i128(),
                bits,
            })
            .at_index(i));
        }
    }
    Ok(a)
}

/// Reads a `@packed` scalar field's value, checking it fits.
pub fn read_packed_scalar_value<T: Element + BitElement>(
    r: &mut Reader<'_>,
    bits: u32,
) -> Result<T> {
    let v = r.scalar::<T>()?;
    if v.fits(bits) {
        Ok(v)
    } else {
        Err(Error::new(ErrorKind::BitsOverflow {
            value: v.to_i128(),
            bits,
        }))
    }
}

/// Writes a `@packed` array field as the ordinary (unpacked) array.
pub fn write_packed<T: Element + BitElement>(
    w: &mut Writer,
    shape: &[usize],
    bytes: &[u8],
    bits: u32,
) {
    let n = shape.iter().product();
    let values: Vec<T> = unpack(bytes, n, bits);
    w.array_slice(shape, &values);
}

/// The constant size hint of a fixed-shape array of `n` elements of `T` with `ndim` dims.
#[inline]
pub const fn fixed_array_hint<T: Element>(ndim: usize, n: usize) -> usize {
    16 + 8 * ndim + n * std::mem::size_of::<T>()
}
