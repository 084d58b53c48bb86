//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) and the saved crash
//! regressions (`fuzz/regressions/<target>/`) through the very entry functions the
//! cargo-fuzz targets call (`fuzz/entry.rs`), on stable Rust and without cargo-fuzz.
//!
//! `cargo test --test fuzz_replay -- --ignored write_seed_corpus` regenerates the
//! seed corpus.

#[path = "../fuzz/entry.rs"]
mod entry;

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn};
use xent::{npy, DType, DynArray};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// Every file of `fuzz/corpus/<target>` and `fuzz/regressions/<target>`.
fn files(target: &str) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for kind in ["corpus", "regressions"] {
        if let Ok(rd) = fs::read_dir(fuzz_dir().join(kind).join(target)) {
            v.extend(rd.map(|e| e.unwrap().path()).filter(|p| p.is_file()));
        }
    }
    v.sort();
    v
}

fn replay(target: &str, f: fn(&[u8])) -> usize {
    let files = files(target);
    let mut failed = Vec::new();
    for p in &files {
        let data = fs::read(p).unwrap();
        if catch_unwind(AssertUnwindSafe(|| f(&data))).is_err() {
            failed.push(p.display().to_string());
        }
    }
    assert!(failed.is_empty(), "{} of {} {target} inputs panicked:\n{}", failed.len(), files.len(), failed.join("\n"));
    files.len()
}

#[test]
fn npy_corpus_replays() {
    assert!(replay("npy", entry::npy) >= 20, "the npy seed corpus is missing");
}

#[test]
fn eval_corpus_replays() {
    assert!(replay("eval", entry::eval) >= 27, "the eval seed corpus is missing");
}

/// Every op of the table has a seed that decodes into a successful call.
#[test]
fn eval_seeds_cover_every_op() {
    let mut ok = std::collections::BTreeSet::new();
    for p in files("eval") {
        let c = entry::decode(&fs::read(&p).unwrap());
        if xent::registry::eval(c.op, c.inputs, c.params, c.grad.as_deref()).is_ok() {
            ok.insert(c.op);
        }
    }
    let missing: Vec<&str> = xent::registry::OPS.iter().map(|o| o.name).filter(|n| !ok.contains(n)).collect();
    assert!(missing.is_empty(), "no successful seed for {missing:?}");
}

// ------------------------------------------------------------------ seed corpus

/// SplitMix64, for the seed search.
fn splitmix(s: &mut u64) -> u64 {
    *s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *s;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn hand_npy(version: (u8, u8), header: &str, data: &[u8]) -> Vec<u8> {
    let mut v = b"\x93NUMPY".to_vec();
    v.extend([version.0, version.1]);
    if version.0 == 1 {
        v.extend(u16::try_from(header.len()).unwrap().to_le_bytes());
    } else {
        v.extend(u32::try_from(header.len()).unwrap().to_le_bytes());
    }
    v.extend(header.as_bytes());
    v.extend(data);
    v
}

fn sample(d: DType, shape: &[usize]) -> DynArray {
    let n: usize = shape.iter().product();
    let sh = IxDyn(shape);
    let f = |i: usize| [1.5, -0.0, f64::NAN, f64::INFINITY, 1e-310, -2.0][i % 6];
    match d {
        DType::F16 => DynArray::F16(ArrayD::from_shape_vec(sh, (0..n).map(|i| half::f16::from_f64(f(i))).collect()).unwrap()),
        DType::F32 => DynArray::F32(ArrayD::from_shape_vec(sh, (0..n).map(|i| f(i) as f32).collect()).unwrap()),
        DType::F64 => DynArray::F64(ArrayD::from_shape_vec(sh, (0..n).map(f).collect()).unwrap()),
        DType::U8 => DynArray::U8(ArrayD::from_shape_vec(sh, (0..n).map(|i| (i * 97) as u8).collect()).unwrap()),
        DType::I32 => DynArray::I32(ArrayD::from_shape_vec(sh, (0..n).map(|i| i as i32 - 2).collect()).unwrap()),
        DType::I64 => DynArray::I64(ArrayD::from_shape_vec(sh, (0..n).map(|i| [0, 2, -100, i64::MAX][i % 4]).collect()).unwrap()),
        DType::Bool => DynArray::Bool(ArrayD::from_shape_vec(sh, (0..n).map(|i| i % 2 == 0).collect()).unwrap()),
    }
}

#[test]
#[ignore = "writes fuzz/corpus; run by hand to regenerate the seeds"]
fn write_seed_corpus() {
    let dir = fuzz_dir().join("corpus/npy");
    fs::create_dir_all(&dir).unwrap();
    let put = |name: &str, bytes: Vec<u8>| fs::write(dir.join(format!("{name}.npy")), bytes).unwrap();
    for d in [DType::F16, DType::F32, DType::F64, DType::U8, DType::I32, DType::I64, DType::Bool] {
        put(&format!("{d}-2x3"), npy::to_bytes(&sample(d, &[2, 3])));
    }
    put("float64-0d", npy::to_bytes(&sample(DType::F64, &[])));
    put("float32-empty-0x4", npy::to_bytes(&sample(DType::F32, &[0, 4])));
    put("int64-1x1x1x5", npy::to_bytes(&sample(DType::I64, &[1, 1, 1, 5])));
    let be: Vec<u8> = [1.5f32, -2.0, f32::NAN].iter().flat_map(|v| v.to_be_bytes()).collect();
    put("float32-big-endian", hand_npy((1, 0), "{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }\n", &be));
    let fo: Vec<u8> = [0i32, 10, 1, 11, 2, 12].iter().flat_map(|v| v.to_le_bytes()).collect();
    put("int32-fortran", hand_npy((1, 0), "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }\n", &fo));
    let d8: Vec<u8> = [1i64, -2].iter().flat_map(|v| v.to_le_bytes()).collect();
    put("int64-v2", hand_npy((2, 0), "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }\n", &d8));
    put("int64-v3-utf8", hand_npy((3, 0), "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }  \n", &d8));
    put("huge-empty", hand_npy((1, 0), "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 1000000000000), }\n", &[]));
    let full = npy::to_bytes(&sample(DType::F32, &[2, 3]));
    put("truncated-data", full[..full.len() - 3].to_vec());
    put("truncated-header", full[..40].to_vec());
    let mut trailing = full.clone();
    trailing.push(0);
    put("trailing-byte", trailing);
    put("bad-magic", b"PK\x03\x04not numpy".to_vec());
    put("version-4", hand_npy((4, 0), "{}", &[]));
    put("object", hand_npy((1, 0), "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", &[0; 8]));
    put("structured", hand_npy((1, 0), "{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (1,), }", &[0; 4]));
    put("lying-shape", hand_npy((1, 0), "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000,), }", &[1, 2]));
    put("overflow-shape", hand_npy((1, 0), "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", &[]));
    put("nested", hand_npy((1, 0), &format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {}", "(".repeat(40)), &[]));

    // eval: for every op, the first pseudo-random inputs that decode into a
    // successful call, one with a gradient when the op has one, and one error.
    let dir = fuzz_dir().join("corpus/eval");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    for (k, op) in xent::registry::OPS.iter().enumerate() {
        let mut want = vec![("ok", false, true), ("err", false, false)];
        if !op.grad_wrt.is_empty() {
            want.push(("grad", true, true));
        }
        for (tag, grad, success) in want {
            let mut s = 0x5eed_0000 + k as u64;
            let found = (0..200_000).find_map(|_| {
                let len = 16 + (splitmix(&mut s) % 112) as usize;
                let mut bytes: Vec<u8> = (0..len).map(|_| splitmix(&mut s) as u8).collect();
                bytes[0] = k as u8;
                bytes[1] = (bytes[1] & !1) | u8::from(grad);
                let c = entry::decode(&bytes);
                let r = xent::registry::eval(c.op, c.inputs, c.params, c.grad.as_deref());
                (r.is_ok() == success).then_some(bytes)
            });
            let bytes = found.unwrap_or_else(|| panic!("no {tag} seed for {}", op.name));
            fs::write(dir.join(format!("{}-{tag}", op.name)), bytes).unwrap();
        }
    }
}
