//! The MDX compression group decoder on arbitrary bytes: the table parser with fragment
//! parameters taken from the first bytes, and raw deflate groups inflated into a buffer of a
//! size taken from the input. Never a panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spindle_format_mds::groups::{GroupTable, inflate_group};

fuzz_target!(|data: &[u8]| {
    if data.len() < 10 {
        return;
    }
    let sectors = u32::from_le_bytes(data[0..4].try_into().unwrap()) as u64 % 100_001;
    let group_sectors = data[4] as u32 % 65;
    let stride = u16::from_le_bytes([data[5], data[6]]) as usize % 2449;
    let body = &data[10..];
    if let Ok(t) = GroupTable::parse(body, sectors, group_sectors, stride) {
        assert_eq!(
            t.groups.len() as u64,
            GroupTable::count(sectors, group_sectors)
        );
        assert_eq!(t.offsets.len(), t.groups.len());
        for g in 0..t.groups.len() as u64 {
            assert!(t.group_len(g) <= group_sectors as u64 * stride as u64);
            let _ = t.stored_len(g);
        }
    }
    // One group's decoded size, up to 64 sectors of 2448 bytes.
    let out_len = u32::from_le_bytes([data[7], data[8], data[9], 0]) as usize % (64 * 2448 + 1);
    let mut out = vec![0u8; out_len];
    let _ = inflate_group(body, &mut out);
});
