//! A lying `.npy` header must never cause an allocation proportional to the
//! declared shape. This binary installs a counting global allocator to check it;
//! the functional tests live in `src/npy/tests.rs`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use xent::{npy, DynArray, Error};

/// Records the largest single allocation made by the current thread.
struct Counting;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    let _ = LARGEST.try_with(|m| m.set(m.get().max(size)));
}

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The largest single allocation `f` makes on this thread.
fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.with(|m| m.set(0));
    let out = f();
    (out, LARGEST.with(Cell::get))
}

fn file(version: (u8, u8), header: &str, data: &[u8]) -> Vec<u8> {
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

#[test]
fn npy_lying_headers_allocate_nothing_proportional_to_the_shape() {
    let lies = [
        ((1, 0), "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000,), }", "truncated data"),
        ((1, 0), "{'descr': '<f4', 'fortran_order': True, 'shape': (100000, 100000), }", "truncated data"),
        ((2, 0), "{'descr': '<i8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", "overflows"),
        ((3, 0), "{'descr': '|b1', 'fortran_order': False, 'shape': (65536, 65536, 16), }", "truncated data"),
        ((1, 0), "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 576460752303423488), }", "trailing bytes"),
    ];
    for (version, header, reason) in lies {
        let bytes = file(version, header, &[0u8; 64]);
        let (result, largest) = largest_allocation(|| npy::from_bytes(&bytes, "lie.npy"));
        match result {
            Err(Error::Io { msg, .. }) => assert!(msg.contains(reason), "{header}: {msg}"),
            other => panic!("{header}: expected an error, got {other:?}"),
        }
        assert!(largest < 4096, "{header}: allocated {largest} bytes at once");
    }
    // A 4 GiB header length with a few bytes behind it.
    let mut bytes = b"\x93NUMPY\x02\x00\xff\xff\xff\xff".to_vec();
    bytes.extend(b"{'descr'");
    let (result, largest) = largest_allocation(|| npy::from_bytes(&bytes, "lie.npy"));
    assert!(result.unwrap_err().to_string().contains("truncated header"));
    assert!(largest < 4096, "allocated {largest} bytes at once");
}

#[test]
fn npy_honest_file_allocation_is_counted() {
    // Control: the counter does see the allocation of a real array.
    let a = DynArray::F64(ndarray::ArrayD::from_elem(ndarray::IxDyn(&[1000]), 0.5));
    let bytes = npy::to_bytes(&a);
    let (back, largest) = largest_allocation(|| npy::from_bytes(&bytes, "ok.npy").unwrap());
    assert_eq!(back, a);
    assert!(largest >= 8000, "largest allocation {largest}");
}
