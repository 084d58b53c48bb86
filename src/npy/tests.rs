//! Tests of the `.npy` reader and writer. Fixtures are built byte by byte here;
//! nothing depends on NumPy being installed.

use super::*;
use ndarray::{arr1, arr2, Array2, Array3, IxDyn};
use proptest::prelude::*;

// ----------------------------------------------------------------- helpers

/// A `.npy` file with the given version, header text and data, built by hand.
fn npy(version: (u8, u8), header: &str, data: &[u8]) -> Vec<u8> {
    let mut v = MAGIC.to_vec();
    v.extend([version.0, version.1]);
    let h = header.as_bytes();
    if version.0 == 1 {
        v.extend(u16::try_from(h.len()).unwrap().to_le_bytes());
    } else {
        v.extend(u32::try_from(h.len()).unwrap().to_le_bytes());
    }
    v.extend(h);
    v.extend(data);
    v
}

/// A version 1.0 file with NumPy's key order and the given dict values.
fn npy1(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let f = if fortran { "True" } else { "False" };
    let header = format!("{{'descr': '{descr}', 'fortran_order': {f}, 'shape': {shape}, }}\n");
    npy((1, 0), &header, data)
}

/// The message of an `Error::Io`, checking that it names the file.
fn err_msg(bytes: &[u8]) -> String {
    match from_bytes(bytes, "x.npy") {
        Err(Error::Io { path, msg }) => {
            assert_eq!(path, "x.npy");
            msg
        }
        other => panic!("expected Error::Io, got {other:?}"),
    }
}

fn assert_rejects(bytes: &[u8], needle: &str) {
    let msg = err_msg(bytes);
    assert!(msg.contains(needle), "message {msg:?} does not mention {needle:?}");
}

fn sample(dtype: DType, shape: &[usize]) -> DynArray {
    let n: usize = shape.iter().product();
    let sh = IxDyn(shape);
    let idx = 0..n;
    match dtype {
        DType::F16 => DynArray::F16(ArrayD::from_shape_vec(sh, idx.map(|i| f16::from_f32(i as f32 * 0.5 - 3.0)).collect()).unwrap()),
        DType::F32 => DynArray::F32(ArrayD::from_shape_vec(sh, idx.map(|i| i as f32 * 1.25 - 7.0).collect()).unwrap()),
        DType::F64 => DynArray::F64(ArrayD::from_shape_vec(sh, idx.map(|i| (i as f64).sqrt() * 1e-3 - 2.0).collect()).unwrap()),
        DType::U8 => DynArray::U8(ArrayD::from_shape_vec(sh, idx.map(|i| (i * 37 % 256) as u8).collect()).unwrap()),
        DType::I32 => DynArray::I32(ArrayD::from_shape_vec(sh, idx.map(|i| (i as i32 - 5).wrapping_mul(100_000_007)).collect()).unwrap()),
        DType::I64 => DynArray::I64(
            ArrayD::from_shape_vec(sh, idx.map(|i| (i as i64 - 3).wrapping_mul(3_000_000_000_000_000_007)).collect()).unwrap(),
        ),
        DType::Bool => DynArray::Bool(ArrayD::from_shape_vec(sh, idx.map(|i| i % 3 == 1).collect()).unwrap()),
    }
}

const ALL: [DType; 7] = [DType::F16, DType::F32, DType::F64, DType::U8, DType::I32, DType::I64, DType::Bool];

/// A fresh, empty directory for one test.
struct TempDir(PathBuf);
impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("xent-npy-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&p);
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(&self.0).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

// ------------------------------------------------------------- writing

#[test]
fn writes_exactly_what_numpy_writes() {
    // np.save(f, np.array([1, 2, 3], dtype=np.float32))
    let a = DynArray::F32(arr1(&[1.0f32, 2.0, 3.0]).into_dyn());
    let mut expected = b"\x93NUMPY\x01\x00\x76\x00{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }".to_vec();
    expected.resize(127, b' ');
    expected.push(b'\n');
    for v in [1.0f32, 2.0, 3.0] {
        expected.extend(v.to_le_bytes());
    }
    assert_eq!(to_bytes(&a), expected);

    // 0-d: shape (), no growth padding.
    let z = DynArray::F64(ArrayD::from_elem(IxDyn(&[]), 2.5));
    let mut expected = b"\x93NUMPY\x01\x00\x76\x00{'descr': '<f8', 'fortran_order': False, 'shape': (), }".to_vec();
    expected.resize(127, b' ');
    expected.push(b'\n');
    expected.extend(2.5f64.to_le_bytes());
    assert_eq!(to_bytes(&z), expected);

    // 2-d bool and uint8 use the '|' byte order.
    let b = sample(DType::Bool, &[2, 3]);
    let bytes = to_bytes(&b);
    assert!(bytes[10..].starts_with(b"{'descr': '|b1', 'fortran_order': False, 'shape': (2, 3), }"));
    assert_eq!(&bytes[122..128], b"     \n");
    assert_eq!(&bytes[128..], &[0, 1, 0, 0, 1, 0]);
    let u = sample(DType::U8, &[4]);
    assert!(to_bytes(&u)[10..].starts_with(b"{'descr': '|u1', "));
}

#[test]
fn descr_of_every_dtype() {
    for (d, s) in [
        (DType::F16, "<f2"),
        (DType::F32, "<f4"),
        (DType::F64, "<f8"),
        (DType::U8, "|u1"),
        (DType::I32, "<i4"),
        (DType::I64, "<i8"),
        (DType::Bool, "|b1"),
    ] {
        let bytes = to_bytes(&sample(d, &[2]));
        let want = format!("{{'descr': '{s}', ");
        assert!(bytes[10..].starts_with(want.as_bytes()), "{d}");
    }
}

#[test]
fn round_trip_every_dtype_and_shape() {
    let shapes: [&[usize]; 8] = [&[], &[0], &[1], &[5], &[2, 3, 4], &[0, 5], &[3, 0, 2], &[1, 1, 1, 7]];
    let mut n = 0;
    for d in ALL {
        for shape in shapes {
            let a = sample(d, shape);
            let bytes = to_bytes(&a);
            let header_len = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
            let data_start = 10 + header_len;
            assert_eq!(data_start % 64, 0, "{d} {shape:?}: data must start 64-byte aligned");
            assert_eq!(bytes[data_start - 1], b'\n');
            assert_eq!(bytes.len(), data_start + a.len() * d.size());
            let back = from_bytes(&bytes, "t.npy").unwrap();
            assert_eq!(back.dtype(), d);
            assert_eq!(back.shape(), shape);
            assert_eq!(back, a, "{d} {shape:?}");
            // write_to produces the same bytes.
            let mut w = Vec::new();
            write_to(&mut w, &a).unwrap();
            assert_eq!(w, bytes);
            n += 1;
        }
    }
    assert_eq!(n, 56);
}

#[test]
fn large_array_streams_in_chunks() {
    // More than one 64 KiB chunk, not a multiple of the chunk size.
    let v: Vec<f64> = (0..20_001).map(|i| f64::from(i) / 7.0).collect();
    let a = DynArray::F64(ArrayD::from_shape_vec(IxDyn(&[20_001]), v).unwrap());
    let mut w = Vec::new();
    write_to(&mut w, &a).unwrap();
    assert_eq!(w, to_bytes(&a));
    assert_eq!(from_bytes(&w, "big.npy").unwrap(), a);
}

#[test]
fn non_standard_layout_is_written_in_c_order() {
    // A Fortran-layout array and a transposed view: logical order is what counts.
    let f = Array2::from_shape_vec((2, 3).f(), vec![1i32, 4, 2, 5, 3, 6]).unwrap();
    assert_eq!(f, arr2(&[[1, 2, 3], [4, 5, 6]]));
    let a = DynArray::I32(f.into_dyn());
    let bytes = to_bytes(&a);
    let data: Vec<i32> = bytes[128..].chunks(4).map(|c| i32::from_le_bytes(c.try_into().unwrap())).collect();
    assert_eq!(data, [1, 2, 3, 4, 5, 6]);
    assert!(bytes[10..].starts_with(b"{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }"));
    assert_eq!(from_bytes(&bytes, "f.npy").unwrap(), a);

    let t = arr2(&[[1u8, 2], [3, 4], [5, 6]]).reversed_axes().to_owned();
    let bytes = to_bytes(&DynArray::U8(t.into_dyn()));
    assert_eq!(&bytes[128..], &[1, 3, 5, 2, 4, 6]);
}

#[test]
fn huge_rank_switches_to_version_2() {
    // 30000 axes of length 1: the header needs more than 65535 bytes.
    let shape = vec![1usize; 30_000];
    let a = DynArray::I64(ArrayD::from_elem(IxDyn(&shape), -7));
    let bytes = to_bytes(&a);
    assert_eq!(&bytes[..8], b"\x93NUMPY\x02\x00");
    let header_len = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
    assert!(header_len > 65535);
    assert_eq!((12 + header_len) % 64, 0);
    assert_eq!(bytes.len(), 12 + header_len + 8);
    let back = from_bytes(&bytes, "rank.npy").unwrap();
    assert_eq!(back.shape().len(), 30_000);
    assert_eq!(back, a);
}

#[test]
fn special_float_values_round_trip_bit_exactly() {
    let f32_bits: Vec<u32> = vec![
        0x7fc0_0000, // NaN
        0x7f80_0001, // signalling NaN with payload
        0xffc0_1234, // negative NaN with payload
        0x7f80_0000, // +inf
        0xff80_0000, // -inf
        0x8000_0000, // -0.0
        0x0000_0000, // +0.0
        0x0000_0001, // smallest subnormal
        0x807f_ffff, // largest negative subnormal
        0x0080_0000, // MIN_POSITIVE
        0x7f7f_ffff, // MAX
    ];
    let a = DynArray::F32(arr1(&f32_bits.iter().map(|&b| f32::from_bits(b)).collect::<Vec<_>>()).into_dyn());
    let DynArray::F32(back) = from_bytes(&to_bytes(&a), "s.npy").unwrap() else { panic!("dtype") };
    assert_eq!(back.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), f32_bits);

    let f64_bits: Vec<u64> = vec![
        0x7ff8_0000_0000_0000,
        0x7ff0_0000_0000_0001,
        0xfff8_dead_beef_0001,
        0x7ff0_0000_0000_0000,
        0xfff0_0000_0000_0000,
        0x8000_0000_0000_0000,
        0x0000_0000_0000_0001,
        0x000f_ffff_ffff_ffff,
        0x7fef_ffff_ffff_ffff,
    ];
    let a = DynArray::F64(arr1(&f64_bits.iter().map(|&b| f64::from_bits(b)).collect::<Vec<_>>()).into_dyn());
    let DynArray::F64(back) = from_bytes(&to_bytes(&a), "s.npy").unwrap() else { panic!("dtype") };
    assert_eq!(back.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), f64_bits);

    let f16_bits: Vec<u16> = vec![0x7e00, 0x7c01, 0xfe01, 0x7c00, 0xfc00, 0x8000, 0x0001, 0x03ff, 0x7bff];
    let a = DynArray::F16(arr1(&f16_bits.iter().map(|&b| f16::from_bits(b)).collect::<Vec<_>>()).into_dyn());
    let DynArray::F16(back) = from_bytes(&to_bytes(&a), "s.npy").unwrap() else { panic!("dtype") };
    assert_eq!(back.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), f16_bits);
}

#[test]
fn integer_extremes_round_trip() {
    let a = DynArray::I64(arr1(&[i64::MIN, -1, 0, 1, i64::MAX]).into_dyn());
    assert_eq!(from_bytes(&to_bytes(&a), "i.npy").unwrap(), a);
    let a = DynArray::I32(arr1(&[i32::MIN, -1, 0, 1, i32::MAX]).into_dyn());
    assert_eq!(from_bytes(&to_bytes(&a), "i.npy").unwrap(), a);
    let a = DynArray::U8(arr1(&[0u8, 1, 127, 128, 255]).into_dyn());
    assert_eq!(from_bytes(&to_bytes(&a), "i.npy").unwrap(), a);
}

// ------------------------------------------------------------- reading fixtures

#[test]
fn big_endian_fixtures() {
    let vals = [1.5f32, -0.0, f32::INFINITY, f32::from_bits(0x0000_0003), -2.75, 1e30];
    let data: Vec<u8> = vals.iter().flat_map(|v| v.to_be_bytes()).collect();
    let DynArray::F32(a) = from_bytes(&npy1(">f4", false, "(2, 3)", &data), "be.npy").unwrap() else { panic!() };
    assert_eq!(a.shape(), &[2, 3]);
    for i in 0..2 {
        for j in 0..3 {
            assert_eq!(a[[i, j]].to_bits(), vals[i * 3 + j].to_bits(), "[{i}, {j}]");
        }
    }

    let vals = [f64::NAN, -1e-310, 3.0];
    let data: Vec<u8> = vals.iter().flat_map(|v| v.to_be_bytes()).collect();
    let DynArray::F64(a) = from_bytes(&npy1(">f8", false, "(3,)", &data), "be.npy").unwrap() else { panic!() };
    for (x, v) in a.iter().zip(vals) {
        assert_eq!(x.to_bits(), v.to_bits());
    }

    let vals = [f16::from_f32(0.5), f16::NEG_INFINITY, f16::from_bits(0x0001)];
    let data: Vec<u8> = vals.iter().flat_map(|v| v.to_be_bytes()).collect();
    let DynArray::F16(a) = from_bytes(&npy1(">f2", false, "(3,)", &data), "be.npy").unwrap() else { panic!() };
    assert_eq!(a.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), [0x3800, 0xfc00, 0x0001]);

    let vals = [i32::MIN, -2, 0x0102_0304];
    let data: Vec<u8> = vals.iter().flat_map(|v| v.to_be_bytes()).collect();
    let DynArray::I32(a) = from_bytes(&npy1(">i4", false, "(3,)", &data), "be.npy").unwrap() else { panic!() };
    assert_eq!(a.as_slice().unwrap(), &vals);

    let vals = [i64::MAX, -3, 0x0102_0304_0506_0708];
    let data: Vec<u8> = vals.iter().flat_map(|v| v.to_be_bytes()).collect();
    let DynArray::I64(a) = from_bytes(&npy1(">i8", false, "(3,)", &data), "be.npy").unwrap() else { panic!() };
    assert_eq!(a.as_slice().unwrap(), &vals);

    // One-byte types accept any byte-order character.
    for d in ["|u1", "<u1", ">u1", "=u1"] {
        let DynArray::U8(a) = from_bytes(&npy1(d, false, "(2,)", &[7, 250]), "u.npy").unwrap() else { panic!() };
        assert_eq!(a.as_slice().unwrap(), &[7, 250]);
    }
    for d in ["|b1", ">b1"] {
        let DynArray::Bool(a) = from_bytes(&npy1(d, false, "(3,)", &[1, 0, 1]), "b.npy").unwrap() else { panic!() };
        assert_eq!(a.as_slice().unwrap(), &[true, false, true]);
    }
}

#[test]
fn native_and_unmarked_byte_order() {
    let data: Vec<u8> = [1.0f32, -2.0].iter().flat_map(|v| v.to_ne_bytes()).collect();
    for d in ["=f4", "|f4", "f4"] {
        let DynArray::F32(a) = from_bytes(&npy1(d, false, "(2,)", &data), "n.npy").unwrap() else { panic!() };
        assert_eq!(a.as_slice().unwrap(), &[1.0, -2.0], "{d}");
    }
}

#[test]
fn fortran_order_fixtures() {
    // a[i][j] = 10 i + j, shape (2, 3), stored column by column.
    let mut data = Vec::new();
    for j in 0..3i32 {
        for i in 0..2i32 {
            data.extend((10 * i + j).to_le_bytes());
        }
    }
    let DynArray::I32(a) = from_bytes(&npy1("<i4", true, "(2, 3)", &data), "f.npy").unwrap() else { panic!() };
    assert!(a.is_standard_layout());
    assert_eq!(a, arr2(&[[0, 1, 2], [10, 11, 12]]).into_dyn());
    for i in 0..2 {
        for j in 0..3 {
            assert_eq!(a[[i, j]], 10 * i as i32 + j as i32);
        }
    }

    // 3-d, big-endian float64, Fortran order: a[i][j][k] = 100 i + 10 j + k.
    let mut data = Vec::new();
    for k in 0..4 {
        for j in 0..3 {
            for i in 0..2 {
                data.extend(f64::from(100 * i + 10 * j + k).to_be_bytes());
            }
        }
    }
    let DynArray::F64(a) = from_bytes(&npy1(">f8", true, "(2, 3, 4)", &data), "f3.npy").unwrap() else { panic!() };
    assert!(a.is_standard_layout());
    let expected = Array3::from_shape_fn((2, 3, 4), |(i, j, k)| (100 * i + 10 * j + k) as f64);
    assert_eq!(a, expected.into_dyn());
    // The standard layout means the memory is now in C order.
    assert_eq!(&a.as_slice().unwrap()[..5], &[0.0, 1.0, 2.0, 3.0, 10.0]);

    // Fortran order with 0-d, 1-d and empty shapes.
    let DynArray::U8(a) = from_bytes(&npy1("|u1", true, "()", &[9]), "f.npy").unwrap() else { panic!() };
    assert_eq!(a, ArrayD::from_elem(IxDyn(&[]), 9));
    let DynArray::U8(a) = from_bytes(&npy1("|u1", true, "(3,)", &[1, 2, 3]), "f.npy").unwrap() else { panic!() };
    assert_eq!(a.as_slice().unwrap(), &[1, 2, 3]);
    let DynArray::Bool(a) = from_bytes(&npy1("|b1", true, "(0, 4)", &[]), "f.npy").unwrap() else { panic!() };
    assert_eq!(a.shape(), &[0, 4]);
}

#[test]
fn versions_2_and_3() {
    let data: Vec<u8> = [1i64, -2, 3].iter().flat_map(|v| v.to_le_bytes()).collect();
    let header = "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }                \n";
    for v in [(2, 0), (3, 0)] {
        let DynArray::I64(a) = from_bytes(&npy(v, header, &data), "v.npy").unwrap() else { panic!() };
        assert_eq!(a.as_slice().unwrap(), &[1, -2, 3], "{v:?}");
    }
    // 3.0 headers are UTF-8: non-ASCII text inside strings parses (and is named
    // correctly in messages), invalid UTF-8 is rejected.
    let h = "{'descr': [('température', '<f4')], 'fortran_order': False, 'shape': (1,), }";
    assert_eq!(err_msg(&npy((3, 0), h, &[0; 4])), "structured dtypes are not supported");
    let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'clé': 1}";
    assert_rejects(&npy((3, 0), h, &[0; 4]), "unexpected key \"clé\"");
    let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), é}";
    assert_rejects(&npy((3, 0), h, &[0; 4]), "expected a string key or '}', found byte 0xC3");
    let mut bad = npy((3, 0), header, &data);
    bad[20] = 0xff;
    assert_rejects(&bad, "not valid UTF-8");
    // 1.0/2.0 headers are latin-1: a stray 0xE9 is a character, here a malformed header.
    let mut odd = npy((2, 0), header, &data);
    odd[14] = 0xe9;
    assert_rejects(&odd, "malformed header");
}

/// Every supported dtype × byte order × memory order × format version × shape kind
/// (0-d, empty, 2-d), built byte by byte and read back to the expected values.
#[test]
fn every_dtype_byte_order_memory_order_and_version() {
    let mut n = 0;
    for d in ALL {
        for shape in [&[][..], &[0, 3][..], &[2, 3][..]] {
            let want = sample(d, shape);
            // Element values in C order, as little-endian bytes from the writer.
            let le = &to_bytes(&want)[128..];
            let size = d.size();
            let elems: Vec<&[u8]> = le.chunks(size).collect();
            for fortran in [false, true] {
                // Fortran order stores the transpose's C order.
                let order: Vec<usize> = match (fortran, shape) {
                    (true, [r, c]) => (0..r * c).map(|k| (k % r) * c + k / r).collect(),
                    _ => (0..elems.len()).collect(),
                };
                for (mark, big) in [('<', false), ('>', true), ('=', cfg!(target_endian = "big")), ('|', cfg!(target_endian = "big"))] {
                    if size > 1 && mark == '|' {
                        continue; // NumPy writes '|' for one-byte types only (read as native anyway)
                    }
                    let data: Vec<u8> = order
                        .iter()
                        .flat_map(|&i| {
                            let mut e = elems[i].to_vec();
                            if big {
                                e.reverse();
                            }
                            e
                        })
                        .collect();
                    let code = &descr(d)[1..];
                    let f = if fortran { "True" } else { "False" };
                    let header = format!("{{'descr': '{mark}{code}', 'fortran_order': {f}, 'shape': {}, }}\n", py_shape(shape));
                    for version in [(1, 0), (2, 0), (3, 0)] {
                        let got =
                            from_bytes(&npy(version, &header, &data), "m.npy").unwrap_or_else(|e| panic!("{header} {version:?}: {e}"));
                        assert!(same_bits(&got, &want), "{header} {version:?}: {got:?} != {want:?}");
                        n += 1;
                    }
                }
            }
        }
    }
    assert_eq!(n, 7 * 3 * 2 * 3 * 3 + 2 * 3 * 2 * 3); // '|' only for uint8 and bool
}

#[test]
fn header_dict_variations() {
    let data: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    let headers = [
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
        "{'shape': (2, 3), 'descr': '<f4', 'fortran_order': False}",
        "{'fortran_order': False, 'shape': (2,3), 'descr': '<f4',}",
        "  {  'descr' :'<f4' ,\n\t'fortran_order':False,'shape':( 2 , 3 , ) }  \n",
        "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2, 3)}",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }\n", // Python 2
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\r\n",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (+2, 0_3), }",
        "{'descr': ('<f4'), 'fortran_order': (False), 'shape': ((2, 3)), }",
    ];
    for h in headers {
        let DynArray::F32(a) = from_bytes(&npy((1, 0), h, &data), "h.npy").unwrap() else { panic!("{h}") };
        assert_eq!(a, arr2(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]).into_dyn(), "{h}");
    }
    let DynArray::F32(a) = from_bytes(&npy1("<f4", false, "()", &data[..4]), "h.npy").unwrap() else { panic!() };
    assert_eq!(a.shape(), &[] as &[usize]);
    assert_eq!(a[IxDyn(&[])], 1.0);
    let DynArray::F32(a) = from_bytes(&npy1("<f4", false, "(0, 5)", &[]), "h.npy").unwrap() else { panic!() };
    assert_eq!(a.shape(), &[0, 5]);
    // A huge axis next to a zero one is still an empty array.
    let DynArray::F32(a) = from_bytes(&npy1("<f4", false, "(0, 1000000000000)", &[]), "h.npy").unwrap() else { panic!() };
    assert_eq!(a.shape(), &[0, 1_000_000_000_000]);
    // Python 2 long suffix is a 1.0/2.0 thing only.
    let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }\n";
    assert_rejects(&npy((3, 0), h, &data), "malformed header");
}

#[test]
fn bool_bytes_other_than_zero_read_as_true() {
    let DynArray::Bool(a) = from_bytes(&npy1("|b1", false, "(4,)", &[0, 1, 2, 255]), "b.npy").unwrap() else { panic!() };
    assert_eq!(a.as_slice().unwrap(), &[false, true, true, true]);
}

// ------------------------------------------------------------- rejections

#[test]
fn rejects_bad_magic() {
    assert_eq!(err_msg(b"PK\x03\x04hello world"), "not a .npy file (bad magic bytes)");
    assert_eq!(err_msg(b"\x93NUMP"), "not a .npy file (bad magic bytes)");
    assert_eq!(err_msg(b"\x93numpy\x01\x00"), "not a .npy file (bad magic bytes)");
    assert_rejects(b"", "empty");
    // Display names the file.
    let e = from_bytes(b"nope", "dir/a.npy").unwrap_err();
    assert_eq!(e.to_string(), "dir/a.npy: not a .npy file (bad magic bytes)");
}

#[test]
fn rejects_unsupported_versions() {
    let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (), }";
    assert_eq!(err_msg(&npy((4, 0), h, &[0; 4])), "unsupported .npy format version 4.0");
    assert_eq!(err_msg(&npy((1, 1), h, &[0; 4])), "unsupported .npy format version 1.1");
    assert_eq!(err_msg(&npy((0, 0), h, &[0; 4])), "unsupported .npy format version 0.0");
    assert_eq!(err_msg(b"\x93NUMPY\xff\x07"), "unsupported .npy format version 255.7");
}

#[test]
fn rejects_truncated_header() {
    let full = npy1("<f4", false, "(3,)", &[0; 12]);
    // Declares 118 bytes (as NumPy writes) but only 40 follow.
    let mut b = b"\x93NUMPY\x01\x00\x76\x00".to_vec();
    b.extend([b' '; 40]);
    assert_eq!(err_msg(&b), "truncated header: declares 118 bytes, file has 40 after the 10-byte preamble");
    for cut in [7, 8, 9] {
        assert_rejects(&full[..cut], "truncated header");
    }
    for cut in [10, 20, full.len() - 13] {
        assert_rejects(&full[..cut], "truncated header: declares");
    }
    // Version 2.0 header claiming 4 GiB.
    let mut b = b"\x93NUMPY\x02\x00\xff\xff\xff\xff".to_vec();
    b.extend(b"{}");
    assert_eq!(err_msg(&b), "truncated header: declares 4294967295 bytes, file has 2 after the 12-byte preamble");
    assert_rejects(b"\x93NUMPY\x02\x00\xff\xff", "truncated header");
}

#[test]
fn rejects_truncated_data() {
    let b = npy1("<f4", false, "(1000, 1000)", &[0; 12]);
    assert_eq!(err_msg(&b), "truncated data: shape (1000, 1000) float32 needs 4000000 bytes, file has 12");
    let b = npy1("<i8", false, "(3,)", &[0; 23]);
    assert_eq!(err_msg(&b), "truncated data: shape (3,) int64 needs 24 bytes, file has 23");
    let b = npy1("<f8", false, "()", &[]);
    assert_eq!(err_msg(&b), "truncated data: shape () float64 needs 8 bytes, file has 0");
    // A lying header: a billion float64s with no data. Fails fast, no allocation.
    let b = npy1("<f8", false, "(1000000000,)", &[1, 2]);
    assert_eq!(err_msg(&b), "truncated data: shape (1000000000,) float64 needs 8000000000 bytes, file has 2");
}

#[test]
fn rejects_overflowing_shapes() {
    let b = npy1("<f4", false, "(4294967296, 4294967296)", &[]);
    assert_rejects(&b, "shape (4294967296, 4294967296) overflows");
    // Fits in 64 bits as a count but not as bytes / isize.
    let b = npy1("<f8", false, "(4611686018427387904,)", &[]);
    assert_rejects(&b, "shape (4611686018427387904,) overflows");
    let b = npy1("<f8", false, "(0, 9223372036854775807, 2)", &[]);
    assert_rejects(&b, "overflows");
    // A dimension that does not even fit in 64 bits.
    let b = npy1("|u1", false, "(123456789012345678901234567890,)", &[]);
    assert_rejects(&b, "shape (123456789012345678901234567890,) overflows");
}

#[test]
fn rejects_unsupported_dtypes() {
    assert_eq!(
        err_msg(&npy1("<c8", false, "(1,)", &[0; 8])),
        "unsupported dtype \"<c8\" (complex); supported are float16, float32, float64, uint8, int32, int64 and bool"
    );
    assert_rejects(&npy1("<c16", false, "(1,)", &[0; 16]), "(complex)");
    assert_eq!(err_msg(&npy1("|O", false, "(1,)", &[0; 8])), "object arrays are not supported");
    let structured = "{'descr': [('x', '<f4'), ('y', '<i8')], 'fortran_order': False, 'shape': (2,), }";
    assert_eq!(err_msg(&npy((1, 0), structured, &[0; 24])), "structured dtypes are not supported");
    let nested = "{'descr': [('a', [('b', '<f4', (2,))])], 'fortran_order': False, 'shape': (1,), }";
    assert_eq!(err_msg(&npy((1, 0), nested, &[0; 8])), "structured dtypes are not supported");
    for (d, what) in [
        ("<i2", "int16"),
        ("|i1", "int8"),
        ("<u4", "uint32"),
        ("<u8", "uint64"),
        ("<f16", "float128"),
        ("<U5", "unicode string"),
        ("|S3", "byte string"),
        ("<M8[ns]", "datetime64"),
        ("<m8[s]", "timedelta64"),
        ("|V8", "void"),
        ("<x4", "not a type string"),
        ("", "not a type string"),
        ("<", "not a type string"),
        ("float32", "not a type string"),
        ("<f", "not a type string"),
    ] {
        let msg = err_msg(&npy1(d, false, "(1,)", &[0; 4]));
        assert!(msg.starts_with(&format!("unsupported dtype {d:?} ({what}")), "{d}: {msg}");
    }
}

#[test]
fn rejects_trailing_bytes() {
    let b = npy1("<f4", false, "(2,)", &[0; 15]);
    assert_eq!(err_msg(&b), "trailing bytes after the data: 7 extra bytes");
    let mut b = to_bytes(&sample(DType::U8, &[3]));
    b.push(0);
    assert_eq!(err_msg(&b), "trailing bytes after the data: 1 extra bytes");
}

#[test]
fn rejects_malformed_header_dicts() {
    let cases = [
        ("", "expected '{'"),
        ("   \n", "expected '{'"),
        ("descr", "expected '{'"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), ", "expected a string key or '}', found the end"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,) 'x': 1}", "expected ',' or '}'"),
        ("{'descr': '<f4', 'fortran_order': False}", "missing key 'shape'"),
        ("{'descr': '<f4', 'shape': (1,)}", "missing key 'fortran_order'"),
        ("{'fortran_order': False, 'shape': (1,)}", "missing key 'descr'"),
        ("{}", "missing key"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", "unexpected key \"extra\""),
        ("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", "duplicate key \"descr\""),
        ("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", "'fortran_order' must be True or False, got 0"),
        ("{'descr': '<f4', 'fortran_order': 'False', 'shape': (1,)}", "'fortran_order' must be True or False"),
        ("{'descr': '<f4', 'fortran_order': None, 'shape': (1,)}", "'fortran_order' must be True or False"),
        ("{'descr': '<f4', 'fortran_order': false, 'shape': (1,)}", "unexpected name \"false\""),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1)}", "'shape' must be a tuple"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': 1}", "'shape' must be a tuple"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': [1]}", "'shape' must be a tuple"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", "'shape' must be a tuple of non-negative"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1.0,)}", "'shape' must be a tuple"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (0x1,)}", "'shape' must be a tuple"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': ('1',)}", "'shape' must be a tuple"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': ((1,),)}", "'shape' must be a tuple"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,,)}", "expected a value"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (,)}", "expected a value"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2}", "expected ',' or ')'"),
        ("{'descr': 4, 'fortran_order': False, 'shape': (1,)}", "'descr' must be a type string"),
        ("{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}", "expected ',' or '}'"),
        ("{'descr' '<f4', 'fortran_order': False, 'shape': (1,)}", "expected ':' after key \"descr\""),
        ("{'descr': '<f4\n', 'fortran_order': False, 'shape': (1,)}", "unterminated string"),
        ("{'descr': '<f\\x34', 'fortran_order': False, 'shape': (1,)}", "escape sequences"),
        ("{descr: '<f4', 'fortran_order': False, 'shape': (1,)}", "expected a string key"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", "unexpected text after the header dict"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}}", "unexpected text after the header dict"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}\0\0", "unexpected text after the header dict"),
        ("{'descr': '<f4', 'fortran_order': {}, 'shape': (1,)}", "expected a value"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (- ,)}", "expected a number"),
    ];
    for (h, needle) in cases {
        let msg = err_msg(&npy((1, 0), h, &[0; 4]));
        assert!(msg.starts_with("malformed header: "), "{h:?}: {msg}");
        assert!(msg.contains(needle), "{h:?}: {msg:?} does not mention {needle:?}");
    }
}

#[test]
fn deep_nesting_is_rejected_without_stack_overflow() {
    let mut h = String::from("{'descr': '<f4', 'fortran_order': False, 'shape': ");
    h.push_str(&"(".repeat(60_000));
    h.push('}');
    let msg = err_msg(&npy((2, 0), &h, &[]));
    assert!(msg.contains("nested more than 16 levels deep"), "{msg}");
    let mut h = String::from("{'descr': ");
    h.push_str(&"[".repeat(100_000));
    let msg = err_msg(&npy((2, 0), &h, &[]));
    assert!(msg.contains("nested more than"), "{msg}");
}

#[test]
fn long_headers_are_excerpted_in_messages() {
    let h = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'junk': '{}'}}", "z".repeat(5000));
    let msg = err_msg(&npy((1, 0), &h, &[0; 4]));
    assert!(msg.contains("unexpected key \"junk\""));
    assert!(msg.len() < 400, "{} bytes", msg.len());
}

// ------------------------------------------------------------- files

#[test]
fn read_and_write_files() {
    let dir = TempDir::new("rw");
    let path = dir.0.join("a.npy");
    let a = sample(DType::F64, &[3, 4]);
    write(&path, &a).unwrap();
    assert_eq!(fs::read(&path).unwrap(), to_bytes(&a));
    assert_eq!(read(&path).unwrap(), a);
    assert_eq!(dir.entries(), ["a.npy"]);

    // Errors from read name the path and the reason.
    let missing = dir.0.join("missing.npy");
    match read(&missing) {
        Err(Error::Io { path, msg }) => {
            assert_eq!(path, missing.display().to_string());
            assert!(msg.starts_with("cannot read: "), "{msg}");
        }
        other => panic!("{other:?}"),
    }
    let junk = dir.0.join("junk.npy");
    fs::write(&junk, b"junk").unwrap();
    assert_eq!(read(&junk).unwrap_err().to_string(), format!("{}: not a .npy file (bad magic bytes)", junk.display()));
}

/// `read` streams regular files; its result and every message must be exactly what
/// `from_bytes` gives on the file's bytes.
fn assert_read_matches(dir: &TempDir, bytes: &[u8]) {
    let p = dir.0.join("e.npy");
    fs::write(&p, bytes).unwrap();
    let name = p.display().to_string();
    match (read(&p), from_bytes(bytes, &name)) {
        (Ok(a), Ok(b)) => assert!(same_bits(&a, &b), "{a:?} != {b:?}"),
        (Err(a), Err(b)) => assert_eq!(a, b),
        (a, b) => panic!("read gave {a:?}, from_bytes gave {b:?} for {bytes:?}"),
    }
}

#[test]
fn read_streams_exactly_what_from_bytes_parses() {
    let dir = TempDir::new("stream");
    // Every dtype and shape; then every truncation and some trailing bytes.
    for d in ALL {
        for shape in [&[][..], &[0][..], &[5][..], &[2, 3, 4][..], &[0, 1_000_000_000_000][..]] {
            let b = to_bytes(&sample(d, shape));
            assert_read_matches(&dir, &b);
            let mut t = b.clone();
            t.extend([1, 2, 3]);
            assert_read_matches(&dir, &t);
        }
    }
    let b = to_bytes(&sample(DType::I32, &[3, 2]));
    for cut in 0..b.len() {
        assert_read_matches(&dir, &b[..cut]);
    }
    // More than one chunk, big-endian and Fortran order; a lying header; short
    // headers whose preamble runs into the data; other versions.
    let v: Vec<u8> = (0..30_001).flat_map(|i| (f64::from(i) / 7.0).to_be_bytes()).collect();
    assert_read_matches(&dir, &npy1(">f8", true, "(3, 10001)", &v));
    assert_read_matches(&dir, &npy1(">f8", false, "(30001,)", &v));
    assert_read_matches(&dir, &npy1(">f8", false, "(30001,)", &v[..v.len() - 1]));
    assert_read_matches(&dir, &npy1("<f8", false, "(1000000000,)", &[1, 2]));
    assert_read_matches(&dir, &npy1("<f8", false, "(4294967296, 4294967296)", &[]));
    for hl in [0u8, 1, 2] {
        let mut f = b"\x93NUMPY\x01\x00".to_vec();
        f.extend([hl, 0, b'{', b'}', 0]);
        assert_read_matches(&dir, &f);
    }
    assert_read_matches(&dir, &npy((2, 0), "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", &[0, 1, 2]));
    assert_read_matches(&dir, &npy((3, 0), "{'descr': '<u1', 'fortran_order': True, 'shape': (2, 2), }", &[1, 2, 3, 4]));
    let mut lying = b"\x93NUMPY\x02\x00\xff\xff\xff\xff".to_vec();
    lying.extend(b"{}");
    assert_read_matches(&dir, &lying);
    assert_read_matches(&dir, b"\x93NUMPY\x07\x00rest");
    assert_read_matches(&dir, b"");
}

#[test]
fn write_replaces_existing_file() {
    let dir = TempDir::new("replace");
    let path = dir.0.join("out.npy");
    fs::write(&path, vec![b'x'; 10_000]).unwrap();
    let a = sample(DType::I32, &[2, 2]);
    write(&path, &a).unwrap();
    assert_eq!(read(&path).unwrap(), a);
    let b = sample(DType::Bool, &[]);
    write(&path, &b).unwrap();
    assert_eq!(read(&path).unwrap(), b);
    assert_eq!(fs::read(&path).unwrap(), to_bytes(&b));
    // No temporary files left behind.
    assert_eq!(dir.entries(), ["out.npy"]);
}

#[test]
fn write_into_missing_directory_fails_cleanly() {
    let dir = TempDir::new("missing-dir");
    let path = dir.0.join("no").join("such").join("out.npy");
    let e = write(&path, &sample(DType::F32, &[3])).unwrap_err();
    let Error::Io { path: p, msg } = &e else { panic!("{e:?}") };
    assert_eq!(p, &path.display().to_string());
    assert!(msg.starts_with("cannot create a temporary file: "), "{msg}");
    let os = io::Error::from(io::ErrorKind::NotFound).to_string();
    assert!(msg.contains("os error") || msg.contains(&os), "no OS reason in {msg}");
    assert!(!path.exists());
    assert!(dir.entries().is_empty());
}

#[test]
fn failed_rename_leaves_nothing_behind() {
    // The target is a non-empty directory: the temporary file is written, the
    // rename fails, and the temporary file must be removed again.
    let dir = TempDir::new("rename");
    let target = dir.0.join("out.npy");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("keep"), b"k").unwrap();
    let e = write(&target, &sample(DType::U8, &[5])).unwrap_err();
    let Error::Io { msg, .. } = &e else { panic!("{e:?}") };
    assert!(msg.starts_with("cannot replace the file: "), "{msg}");
    assert_eq!(dir.entries(), ["out.npy"]);
    assert!(target.is_dir());
    assert_eq!(fs::read(target.join("keep")).unwrap(), b"k");
}

#[test]
fn write_rejects_paths_without_a_file_name() {
    let e = write(Path::new("/"), &sample(DType::U8, &[1])).unwrap_err();
    let Error::Io { msg, .. } = &e else { panic!("{e:?}") };
    assert!(msg.contains("does not name a file"), "{msg}");
}

/// A writer that accepts `limit` bytes and then fails like a full disk.
struct FailAfter {
    limit: usize,
    written: Vec<u8>,
}
impl Write for FailAfter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = self.limit - self.written.len();
        if room == 0 {
            return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
        }
        let n = room.min(buf.len());
        self.written.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn write_to_reports_a_failing_writer() {
    let a = sample(DType::F64, &[10_000]); // 80 KiB of data: more than one chunk
    let full = to_bytes(&a);
    for limit in [0, 1, 9, 10, 127, 128, 129, 4000, 65_536 + 128, full.len() - 1] {
        let mut w = FailAfter { limit, written: Vec::new() };
        let e = write_to(&mut w, &a).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::StorageFull, "limit {limit}");
        assert_eq!(w.written, &full[..limit]);
    }
    let mut w = FailAfter { limit: full.len(), written: Vec::new() };
    write_to(&mut w, &a).unwrap();
    assert_eq!(w.written, full);
}

// ------------------------------------------------------------- internals

#[test]
fn py_shape_matches_python_repr() {
    assert_eq!(py_shape::<usize>(&[]), "()");
    assert_eq!(py_shape(&[3]), "(3,)");
    assert_eq!(py_shape(&[2, 3]), "(2, 3)");
    assert_eq!(py_shape(&[0, 5, 1]), "(0, 5, 1)");
}

// ------------------------------------------------------------- properties

fn any_dtype() -> impl Strategy<Value = DType> {
    prop::sample::select(ALL.to_vec())
}

fn any_array() -> impl Strategy<Value = DynArray> {
    (any_dtype(), prop::collection::vec(0usize..4, 0..4), any::<u64>()).prop_map(|(d, shape, seed)| {
        // Arbitrary bit patterns, including NaNs and subnormals.
        let mut x = seed | 1;
        let mut bits = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let sh = IxDyn(&shape);
        match d {
            DType::F16 => DynArray::F16(ArrayD::from_shape_fn(sh, |_| f16::from_bits(bits() as u16))),
            DType::F32 => DynArray::F32(ArrayD::from_shape_fn(sh, |_| f32::from_bits(bits() as u32))),
            DType::F64 => DynArray::F64(ArrayD::from_shape_fn(sh, |_| f64::from_bits(bits()))),
            DType::U8 => DynArray::U8(ArrayD::from_shape_fn(sh, |_| bits() as u8)),
            DType::I32 => DynArray::I32(ArrayD::from_shape_fn(sh, |_| bits() as i32)),
            DType::I64 => DynArray::I64(ArrayD::from_shape_fn(sh, |_| bits() as i64)),
            DType::Bool => DynArray::Bool(ArrayD::from_shape_fn(sh, |_| bits() & 1 == 1)),
        }
    })
}

/// Bit-exact equality (NaN payloads included): the serialised data holds the bits.
fn same_bits(a: &DynArray, b: &DynArray) -> bool {
    a.dtype() == b.dtype() && a.shape() == b.shape() && to_bytes(a) == to_bytes(b)
}

/// A header text generator that stays close to the grammar, to reach deep code paths.
fn header_like() -> impl Strategy<Value = String> {
    let descr = prop::sample::select(vec![
        "'<f4'",
        "'>f8'",
        "'|b1'",
        "'<i8'",
        "'|u1'",
        "'<f2'",
        "'>i4'",
        "'<c8'",
        "'|O'",
        "'<U3'",
        "[('a', '<f4')]",
        "''",
        "3",
        "True",
    ]);
    let fortran = prop::sample::select(vec!["True", "False", "0", "None", "'x'"]);
    let dims = prop::collection::vec(
        prop::sample::select(vec!["0", "1", "2", "3", "7", "-1", "4294967296", "99999999999999999999999", "2L", "1.5"]),
        0..4,
    );
    (descr, fortran, dims, any::<bool>(), any::<bool>()).prop_map(|(d, f, dims, comma, swap)| {
        let shape = match dims.len() {
            0 => "()".to_string(),
            1 if comma => format!("({},)", dims[0]),
            _ => format!("({})", dims.join(", ")),
        };
        if swap {
            format!("{{'shape': {shape}, 'fortran_order': {f}, 'descr': {d}}}\n")
        } else {
            format!("{{'descr': {d}, 'fortran_order': {f}, 'shape': {shape}, }}")
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The streaming file reader agrees with the in-memory parser on mutated files.
    #[test]
    fn prop_read_agrees_with_from_bytes(
        a in any_array(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in prop::option::of(any::<prop::sample::Index>()),
    ) {
        let mut b = to_bytes(&a);
        for (i, v) in flips {
            let i = i.index(b.len());
            b[i] = v;
        }
        if let Some(c) = cut {
            b.truncate(c.index(b.len() + 1));
        }
        let dir = TempDir::new("prop-stream");
        assert_read_matches(&dir, &b);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn prop_round_trip_is_bit_exact(a in any_array()) {
        let bytes = to_bytes(&a);
        let back = from_bytes(&bytes, "p.npy").unwrap();
        prop_assert!(same_bits(&a, &back));
        prop_assert_eq!(to_bytes(&back), bytes);
    }

    #[test]
    fn prop_random_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
        prefix in prop::sample::select(vec![0usize, 1, 2, 3]),
    ) {
        let mut input = match prefix {
            0 => Vec::new(),
            1 => b"\x93NUMPY\x01\x00".to_vec(),
            2 => b"\x93NUMPY\x02\x00".to_vec(),
            _ => b"\x93NUMPY\x03\x00".to_vec(),
        };
        input.extend(bytes);
        let _ = from_bytes(&input, "r.npy");
    }

    #[test]
    fn prop_mutated_valid_files_never_panic(
        a in any_array(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        cut in prop::option::of(any::<prop::sample::Index>()),
        insert in prop::option::of((any::<prop::sample::Index>(), prop::collection::vec(any::<u8>(), 1..8))),
    ) {
        let mut b = to_bytes(&a);
        for (i, v) in flips {
            let i = i.index(b.len());
            b[i] = v;
        }
        if let Some((i, extra)) = insert {
            let i = i.index(b.len());
            b.splice(i..i, extra);
        }
        if let Some(c) = cut {
            b.truncate(c.index(b.len() + 1));
        }
        if let Ok(back) = from_bytes(&b, "m.npy") {
            // Whatever was accepted is self-consistent.
            prop_assert_eq!(back.len(), back.shape().iter().product::<usize>());
        }
    }

    #[test]
    fn prop_header_mutations_never_panic(
        a in any_array(),
        pos in any::<prop::sample::Index>(),
        junk in "[{}()\\[\\]'\",: 0-9a-zA-Z<>|=_.+\\-\n\t]{0,12}",
        delete in 0usize..6,
    ) {
        let b = to_bytes(&a);
        let hlen = usize::from(u16::from_le_bytes([b[8], b[9]]));
        let mut header: Vec<char> = String::from_utf8(b[10..10 + hlen].to_vec()).unwrap().chars().collect();
        let i = pos.index(header.len());
        let end = (i + delete).min(header.len());
        header.splice(i..end, junk.chars());
        let header: String = header.into_iter().collect();
        let file = npy((1, 0), &header, &b[10 + hlen..]);
        let _ = from_bytes(&file, "h.npy");
    }

    #[test]
    fn prop_grammar_like_headers_never_panic(
        h in header_like(),
        data_len in 0usize..80,
        version in prop::sample::select(vec![(1u8, 0u8), (2, 0), (3, 0)]),
    ) {
        let file = npy(version, &h, &vec![1u8; data_len]);
        if let Ok(a) = from_bytes(&file, "g.npy") {
            prop_assert_eq!(a.len() * a.dtype().size(), data_len);
        }
    }

    #[test]
    fn prop_random_header_text_never_panics(
        h in "[{}()\\[\\]'\",: 0-9a-z<>|=_.LTFN\\-\n]{0,120}",
        data in prop::collection::vec(any::<u8>(), 0..32),
    ) {
        let _ = from_bytes(&npy((1, 0), &h, &data), "t.npy");
    }
}
