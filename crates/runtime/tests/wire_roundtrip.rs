//! Round trips for every dtype: NdArray through the atdata payload, the msgpack-numpy
//! map, JSON (`data_b64` form) and a binary serde format; and scalars through Writer and
//! Reader. Compared by bytes so NaN payloads count as equal.

use half::{bf16, f16};
use proptest::prelude::*;
use schemac_runtime::array::{Element, NdArray};
use schemac_runtime::msgpack::{Reader, Writer};
use schemac_runtime::rng::Rng;

fn shape_strategy() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(0usize..5, 0..4)
}

fn array_strategy<T: Element, S: Strategy<Value = T> + Clone>(
    elem: S,
) -> impl Strategy<Value = NdArray<T>> {
    shape_strategy().prop_flat_map(move |shape| {
        let n = shape.iter().product::<usize>();
        proptest::collection::vec(elem.clone(), n)
            .prop_map(move |data| NdArray::new(shape.clone(), data).unwrap())
    })
}

fn same<T: Element>(a: &NdArray<T>, b: &NdArray<T>) -> bool {
    a.shape() == b.shape() && a.as_le_bytes() == b.as_le_bytes()
}

fn check_all<T: Element>(a: &NdArray<T>) {
    // atdata payload, owned and viewed.
    let mut w = Writer::new();
    w.array(a);
    let mut r = Reader::new(w.as_bytes());
    let b = r.array::<T>().unwrap();
    r.finish().unwrap();
    assert!(same(a, &b), "atdata {a:?} != {b:?}");
    let v = Reader::new(w.as_bytes()).array_view::<T>().unwrap();
    assert!(same(a, &v.to_owned()));
    assert_eq!(v.len(), a.len());
    for (i, x) in v.iter().enumerate() {
        assert_eq!(T::DTYPE.size() as usize, std::mem::size_of_val(&x));
        let _ = v.get(i).unwrap();
    }

    // msgpack-numpy.
    let mut w = Writer::new();
    w.array_numpy(a);
    let mut r = Reader::new(w.as_bytes());
    let b = r.array::<T>().unwrap();
    r.finish().unwrap();
    assert!(same(a, &b), "msgpack-numpy");

    // JSON.
    let json = serde_json::to_string(a).unwrap();
    let b: NdArray<T> = serde_json::from_str(&json).unwrap();
    assert!(same(a, &b), "json {json}");
    assert!(json.contains(&format!("\"dtype\":\"{}\"", T::DTYPE.numpy_name())));

    // Binary serde (rmp-serde is not human-readable: the compact tuple form).
    let bin = rmp_serde::to_vec(a).unwrap();
    let b: NdArray<T> = rmp_serde::from_slice(&bin).unwrap();
    assert!(same(a, &b), "rmp-serde");
}

macro_rules! roundtrip {
    ($name:ident, $t:ty, $strategy:expr) => {
        proptest! {
            #[test]
            fn $name(a in array_strategy::<$t, _>($strategy)) {
                check_all(&a);
            }
        }
    };
}

roundtrip!(rt_bool, bool, any::<bool>());
roundtrip!(rt_i8, i8, any::<i8>());
roundtrip!(rt_i16, i16, any::<i16>());
roundtrip!(rt_i32, i32, any::<i32>());
roundtrip!(rt_i64, i64, any::<i64>());
roundtrip!(rt_u8, u8, any::<u8>());
roundtrip!(rt_u16, u16, any::<u16>());
roundtrip!(rt_u32, u32, any::<u32>());
roundtrip!(rt_u64, u64, any::<u64>());
roundtrip!(rt_f16, f16, any::<u16>().prop_map(f16::from_bits));
roundtrip!(rt_bf16, bf16, any::<u16>().prop_map(bf16::from_bits));
roundtrip!(rt_f32, f32, any::<u32>().prop_map(f32::from_bits));
roundtrip!(rt_f64, f64, any::<u64>().prop_map(f64::from_bits));

proptest! {
    #[test]
    fn int_scalars(v in any::<i64>(), u in any::<u64>()) {
        let mut w = Writer::new();
        w.scalar(v);
        w.scalar(u);
        w.scalar(v as i8);
        w.scalar(v as u16);
        let mut r = Reader::new(w.as_bytes());
        prop_assert_eq!(r.scalar::<i64>().unwrap(), v);
        prop_assert_eq!(r.scalar::<u64>().unwrap(), u);
        prop_assert_eq!(r.scalar::<i8>().unwrap(), v as i8);
        prop_assert_eq!(r.scalar::<u16>().unwrap(), v as u16);
        r.finish().unwrap();
    }

    #[test]
    fn float_scalars(bits in any::<u64>(), b in any::<bool>()) {
        let x = f64::from_bits(bits);
        let mut w = Writer::new();
        w.scalar(x);
        w.scalar(x as f32);
        w.scalar(b);
        let mut r = Reader::new(w.as_bytes());
        prop_assert_eq!(r.scalar::<f64>().unwrap().to_bits(), bits);
        prop_assert_eq!(r.scalar::<f32>().unwrap().to_bits(), (x as f32).to_bits());
        prop_assert_eq!(r.bool().unwrap(), b);
        r.finish().unwrap();
    }

    #[test]
    fn strings_and_bins(s in ".{0,300}", b in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut w = Writer::new();
        w.str(&s);
        w.bin(&b);
        let mut r = Reader::new(w.as_bytes());
        prop_assert_eq!(r.str().unwrap(), s.as_str());
        prop_assert_eq!(r.bin().unwrap(), &b[..]);
        r.finish().unwrap();
    }

    #[test]
    fn random_arrays_round_trip(seed in any::<u64>()) {
        let mut rng = Rng::new(seed);
        check_all(&NdArray::<i16>::random(vec![3, 2], &mut rng, Some(5), None));
        check_all(&NdArray::<f16>::random(vec![4], &mut rng, None, Some((0.0, 255.0))));
    }
}

#[test]
fn header_size_boundaries() {
    for n in [0usize, 31, 32, 255, 256, 65535, 65536, 70000] {
        let data = vec![7u8; n];
        let text = "x".repeat(n);
        let mut w = Writer::new();
        w.bin(&data);
        w.str(&text);
        w.array_header(n);
        for _ in 0..n {
            w.nil();
        }
        w.map_header(n);
        for _ in 0..n {
            w.nil();
            w.nil();
        }
        let mut r = Reader::new(w.as_bytes());
        assert_eq!(r.bin().unwrap().len(), n);
        assert_eq!(r.str().unwrap().len(), n);
        assert_eq!(r.array_len().unwrap(), n);
        for _ in 0..n {
            r.nil().unwrap();
        }
        assert_eq!(r.map_len().unwrap(), n);
        for _ in 0..2 * n {
            r.nil().unwrap();
        }
        r.finish().unwrap();
    }
}

#[test]
fn base64_bytes_fields() {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct S {
        #[serde(with = "schemac_runtime::json::base64_bytes")]
        blob: Vec<u8>,
        #[serde(default, with = "schemac_runtime::json::base64_bytes_opt")]
        maybe: Option<Vec<u8>>,
    }
    let s = S {
        blob: vec![0, 1, 127, 128, 255],
        maybe: Some(vec![1]),
    };
    let j = serde_json::to_string(&s).unwrap();
    assert_eq!(j, r#"{"blob":"AAF/gP8=","maybe":"AQ=="}"#);
    assert_eq!(serde_json::from_str::<S>(&j).unwrap(), s);
    let none = S {
        blob: vec![],
        maybe: None,
    };
    let j = serde_json::to_string(&none).unwrap();
    assert_eq!(j, r#"{"blob":"","maybe":null}"#);
    assert_eq!(serde_json::from_str::<S>(&j).unwrap(), none);
    assert_eq!(serde_json::from_str::<S>(r#"{"blob":""}"#).unwrap(), none);
    assert!(serde_json::from_str::<S>(r#"{"blob":"!!"}"#).is_err());
    let bin = rmp_serde::to_vec(&s).unwrap();
    assert_eq!(rmp_serde::from_slice::<S>(&bin).unwrap(), s);
}
