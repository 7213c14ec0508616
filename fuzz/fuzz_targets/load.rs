//! Feed arbitrary bytes to the snapshot loader under every name-based kind, then build the
//! estate index over whatever loaded. Any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 5] = ["input.json", "input.yaml", "input.json.gz", "Dockerfile", "node.iptables"];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let name = NAMES[usize::from(selector) % NAMES.len()];
    let (mut snapshot, _input, _errors) = emrguard_load::load_bytes_public(name, rest.to_vec());
    snapshot.finalize();
    let _ = emrguard_model::EstateIndex::build(&snapshot);
});
