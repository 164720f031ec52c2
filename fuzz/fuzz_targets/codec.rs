//! Encoded sample bytes → `schemac::codec::Codec` decode, for every record of the example
//! schemas in every format (selector byte: see `common/codecs.rs`). A decoded value must
//! re-encode in every format it has, and each re-encoding must decode to the same bytes
//! again (the canonical form is a fixed point).
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use schemac::codec::Format;

#[path = "../common/codecs.rs"]
mod codecs;

fn entries() -> &'static [codecs::Entry] {
    static E: OnceLock<Vec<codecs::Entry>> = OnceLock::new();
    E.get_or_init(|| codecs::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("..")))
}

fuzz_target!(|data: &[u8]| {
    let [f, r, rest @ ..] = data else {
        return;
    };
    let entries = entries();
    let e = &entries[*r as usize % entries.len()];
    let format = Format::ALL[(f & 3) as usize];
    let Ok(value) = e.codec.decode(rest, format) else {
        return;
    };
    for f in Format::ALL {
        if f == Format::Packed && e.codec.aggregate().is_none() {
            continue;
        }
        let bytes = match e.codec.encode(&value, f) {
            Ok(b) => b,
            Err(err) => panic!(
                "{}.{}: a value decoded from {} does not encode as {}: {err}",
                e.schema,
                e.record,
                format.name(),
                f.name()
            ),
        };
        let back = match e.codec.decode(&bytes, f) {
            Ok(v) => v,
            Err(err) => panic!(
                "{}.{}: its own {} encoding does not decode: {err}",
                e.schema,
                e.record,
                f.name()
            ),
        };
        let again = e
            .codec
            .encode(&back, f)
            .expect("encodes once, encodes twice");
        assert!(
            again == bytes,
            "{}.{}: {} re-encoding is not a fixed point",
            e.schema,
            e.record,
            f.name()
        );
    }
});
