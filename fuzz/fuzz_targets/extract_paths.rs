//! `spindle extract`'s output side on arbitrary entry sequences: names (hostile ones from a
//! dictionary, or raw), kinds, modes, link targets, hard links, directories listed twice,
//! and an output folder that may already hold links to the outside. Extracts for real into a
//! temporary folder and panics if anything beside the output folder changed or appeared, or
//! if a temporary file was left (spindle_extract::fuzzing).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    spindle_extract::fuzzing::run(data);
});
