//! The whole `xent eval` path: an op, parameters, arrays and a gradient name decoded
//! from arbitrary bytes, through `xent::registry::eval` (see `../entry.rs`).
#![no_main]

#[path = "../entry.rs"]
mod entry;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entry::eval(data));
