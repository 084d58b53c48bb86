//! Reading and writing NumPy `.npy` files, without an external npy crate.
//!
//! The reader accepts every file NumPy writes for the dtypes xent supports
//! (float16, float32, float64, uint8, int32, int64, bool): format versions 1.0,
//! 2.0 and 3.0, little-, big- and native-endian type strings, C and Fortran
//! order, 0-d and empty arrays. It is hardened against hostile input: the header
//! is parsed by a small hand-written parser for the Python dict literal, the data
//! size is computed with checked arithmetic and compared with the bytes actually
//! present *before* anything proportional to the declared shape is allocated, and
//! no input makes it panic. Every rejection is an [`Error::Io`] whose `path` is
//! the file name and whose `msg` says the reason plainly.
//!
//! The writer produces exactly what `numpy.save` writes (NumPy ≥ 1.24): format
//! 1.0 (2.0 only when the header needs more than 65535 bytes), little-endian,
//! C order, the header padded with spaces so that the data starts at a multiple
//! of 64 bytes. [`write()`] replaces a regular file atomically and writes through
//! FIFOs, devices and links ([`output_target`]).

use std::convert::Infallible;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use half::f16;
use ndarray::{ArrayD, IxDyn, ShapeBuilder};

use crate::array::{DType, DynArray};
use crate::error::{Error, Result};

/// The six magic bytes every `.npy` file starts with.
const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// NumPy aligns the start of the data to this many bytes.
const ARRAY_ALIGN: usize = 64;
/// NumPy leaves room for the first axis to grow to this many digits.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;
/// The deepest nesting of tuples/lists the header parser follows.
const MAX_DEPTH: usize = 16;
/// Size of the buffer used when streaming the data to a writer.
const CHUNK: usize = 1 << 16;

fn io_err(name: &str, msg: impl Into<String>) -> Error {
    Error::Io { path: name.to_string(), msg: msg.into() }
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

/// Parse a `.npy` file held in memory.
///
/// `name` is used in error messages (normally the file path). The result is
/// always in C (row-major) order with native-endian values, whatever order and
/// byte order the file uses. Bool bytes other than 0 read as `true`, as NumPy
/// treats them.
///
/// # Errors
/// [`Error::Io`] with `path: name` when the bytes are not a valid `.npy` file of a
/// supported dtype: bad magic bytes, an unsupported format version, a truncated
/// header or data section, a malformed header dict, a shape whose size overflows,
/// an unsupported dtype (complex, object, structured, string, other integer
/// widths...), or bytes left over after the data. The message says which.
///
/// # Examples
/// ```
/// use ndarray::{ArrayD, IxDyn};
/// use xent::{npy, DynArray};
///
/// let a = DynArray::F32(ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1.0, -0.0, f32::INFINITY, 0.5]).unwrap());
/// let bytes = npy::to_bytes(&a);
/// assert_eq!(npy::from_bytes(&bytes, "a.npy").unwrap(), a);
///
/// let err = npy::from_bytes(b"PK\x03\x04 not numpy", "b.npy").unwrap_err();
/// assert_eq!(err.to_string(), "b.npy: not a .npy file (bad magic bytes)");
/// ```
pub fn from_bytes(bytes: &[u8], name: &str) -> Result<DynArray> {
    let (header, data) = split(bytes).map_err(|msg| io_err(name, msg))?;
    let header = parse_header(header.text, header.version).map_err(|msg| io_err(name, msg))?;
    decode(&header, data).map_err(|msg| io_err(name, msg))
}

/// Read a `.npy` file from disk.
///
/// The result, and every error message, is what [`from_bytes`] gives on the file's
/// bytes, but a regular file is streamed: the preamble and header are read and
/// checked, the declared size is compared with the file's size, and the data is
/// decoded straight into the array, a chunk at a time. Peak memory is the array
/// (twice for a Fortran-order file, which is reordered), not the file plus the
/// array. Other files (pipes, devices) are read whole once the header checks out.
///
/// # Errors
/// [`Error::Io`] naming `path`: the OS reason when the file cannot be read, or
/// any of the reasons [`from_bytes`] rejects a file for.
///
/// ```
/// use xent::{npy, DynArray};
/// let path = std::env::temp_dir().join(format!("xent-doc-read-{}.npy", std::process::id()));
/// let a = DynArray::from(ndarray::array![[1.0f32, 2.0]].into_dyn());
/// npy::write(&path, &a).unwrap();
/// assert_eq!(npy::read(&path).unwrap(), a);
/// std::fs::remove_file(&path).unwrap();
/// ```
pub fn read(path: &Path) -> Result<DynArray> {
    use io::Read;
    let name = path.display().to_string();
    let fail = |msg: String| io_err(&name, msg);
    let cannot = |e: io::Error| io_err(&name, format!("cannot read: {e}"));
    let file = fs::File::open(path).map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    let mut r = io::BufReader::with_capacity(CHUNK, file);
    let (head, header) = read_head(&mut r, &name)?;
    let (_, extra) = split(&head).map_err(&fail)?;
    let consumed = head.len() as u64;
    if !meta.is_file() {
        // No size to check against: read the rest (bounded by what is there).
        let mut data = extra.to_vec();
        r.read_to_end(&mut data).map_err(cannot)?;
        return decode(&header, &data).map_err(fail);
    }
    let data_len = (meta.len().saturating_sub(consumed)) + extra.len() as u64;
    let shape = check_size(&header, data_len).map_err(&fail)?;
    decode_stream(&header, &shape, &mut extra.chain(r)).map_err(fail)
}

/// Read and parse the preamble and header of a file: the bytes read (the header, or
/// what of it is there) and the parsed header.
fn read_head(r: &mut impl io::Read, name: &str) -> Result<(Vec<u8>, Header)> {
    use io::Read;
    let fail = |msg: String| io_err(name, msg);
    let cannot = |e: io::Error| io_err(name, format!("cannot read: {e}"));
    // The preamble: magic, version and header length (12 bytes at most).
    let mut head = Vec::with_capacity(12);
    r.by_ref().take(12).read_to_end(&mut head).map_err(cannot)?;
    let header_end = match (head.get(..6) == Some(&MAGIC[..]), head.get(6..8), head.get(8..12)) {
        (true, Some([1, 0]), Some(&[a, b, ..])) => 10 + u64::from(u16::from_le_bytes([a, b])),
        (true, Some([2 | 3, 0]), Some(&[a, b, c, d])) => 12 + u64::from(u32::from_le_bytes([a, b, c, d])),
        // A bad preamble: `split` names the problem exactly as for the whole file.
        _ => head.len() as u64,
    };
    // The header (what of it is there: a lying length allocates nothing more).
    let more = header_end.saturating_sub(head.len() as u64);
    r.by_ref().take(more).read_to_end(&mut head).map_err(cannot)?;
    let (raw, _) = split(&head).map_err(fail)?;
    let header = parse_header(raw.text, raw.version).map_err(fail)?;
    Ok((head, header))
}

/// The dtype and shape a regular `.npy` file declares (its header checked against
/// the file's size), without reading the data.
///
/// # Errors
/// As [`read`].
///
/// ```
/// use xent::{npy, DType};
/// let path = std::env::temp_dir().join(format!("xent-doc-info-{}.npy", std::process::id()));
/// npy::write(&path, &xent::DynArray::from(ndarray::array![[1.0f32, 2.0, 3.0]].into_dyn())).unwrap();
/// assert_eq!(npy::info(&path).unwrap(), (DType::F32, vec![1, 3]));
/// std::fs::remove_file(&path).unwrap();
/// ```
pub fn info(path: &Path) -> Result<(DType, Vec<usize>)> {
    let (h, shape, _) = open_regular(path)?;
    Ok((h.dtype, shape))
}

/// Open a regular file and check its header: the header, the shape and where the
/// data starts.
fn open_regular(path: &Path) -> Result<(Header, Vec<usize>, u64)> {
    let name = path.display().to_string();
    let cannot = |e: io::Error| io_err(&name, format!("cannot read: {e}"));
    let file = fs::File::open(path).map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    if !meta.is_file() {
        return Err(io_err(&name, "not a regular file (a block of it cannot be read)"));
    }
    let (head, header) = read_head(&mut io::BufReader::new(file), &name)?;
    let consumed = head.len() as u64;
    let shape = check_size(&header, meta.len().saturating_sub(consumed)).map_err(|m| io_err(&name, m))?;
    Ok((header, shape, consumed))
}

/// Read only the indices `range` along `axis` of the array in a C-order `.npy` file:
/// one contiguous read per index of the axes before `axis` (a block of rows of a
/// `(C, D)` matrix is one read; a block of columns of an `(N, C)` matrix is `N`
/// strided reads). Memory: the block, twice at most.
///
/// # Errors
/// As [`read`], plus [`Error::Io`] for an axis or range outside the shape, or a
/// Fortran-order file (save it in C order to read it in blocks).
///
/// ```
/// use xent::{npy, DynArray};
/// let path = std::env::temp_dir().join(format!("xent-doc-block-{}.npy", std::process::id()));
/// npy::write(&path, &DynArray::from(ndarray::array![[1.0f64, 2.0, 3.0], [4.0, 5.0, 6.0]].into_dyn())).unwrap();
/// let cols = npy::read_block(&path, 1, 1..3).unwrap();
/// assert_eq!(cols, DynArray::from(ndarray::array![[2.0f64, 3.0], [5.0, 6.0]].into_dyn()));
/// std::fs::remove_file(&path).unwrap();
/// ```
pub fn read_block(path: &Path, axis: usize, range: std::ops::Range<usize>) -> Result<DynArray> {
    use io::{Read, Seek};
    let name = path.display().to_string();
    let (h, shape, start) = open_regular(path)?;
    let fail = |msg: String| io_err(&name, msg);
    if h.fortran && shape.iter().filter(|&&d| d > 1).count() > 1 {
        return Err(fail("a Fortran-order array cannot be read in blocks; save it in C order".into()));
    }
    if axis >= shape.len() || range.start > range.end || range.end > shape[axis] {
        return Err(fail(format!("cannot read {}..{} of axis {axis} of an array of shape {}", range.start, range.end, py_shape(&shape))));
    }
    let size = h.dtype.size();
    let outer: usize = shape[..axis].iter().product();
    let inner: usize = shape[axis + 1..].iter().product();
    let mut sub = shape.clone();
    sub[axis] = range.len();
    // Bounded by the file's size, which `open_regular` checked against the shape.
    let run = range.len() * inner * size;
    let mut data = vec![0u8; outer * run];
    let mut f = fs::File::open(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    if run > 0 {
        for (o, chunk) in data.chunks_exact_mut(run).enumerate() {
            let at = start + ((o * shape[axis] + range.start) * inner * size) as u64;
            f.seek(io::SeekFrom::Start(at)).and_then(|_| f.read_exact(chunk)).map_err(|e| fail(format!("cannot read: {e}")))?;
        }
    }
    let bh = Header { dtype: h.dtype, order: h.order, fortran: false, shape: sub.iter().map(|&d| d as u64).collect() };
    decode(&bh, &data).map_err(fail)
}

/// The raw parts of a file: the header text and the version it was read with.
struct RawHeader<'a> {
    text: &'a [u8],
    version: (u8, u8),
}

/// Check magic, version and header length; return the header bytes and the data bytes.
fn split(bytes: &[u8]) -> std::result::Result<(RawHeader<'_>, &[u8]), String> {
    if bytes.is_empty() {
        return Err("not a .npy file (the file is empty)".into());
    }
    if bytes.get(..MAGIC.len()) != Some(&MAGIC[..]) {
        return Err("not a .npy file (bad magic bytes)".into());
    }
    let (major, minor) = match (bytes.get(6), bytes.get(7)) {
        (Some(&major), Some(&minor)) => (major, minor),
        _ => return Err(format!("truncated header: the file ends after {} bytes, inside the format version", bytes.len())),
    };
    let len_size = match (major, minor) {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        _ => return Err(format!("unsupported .npy format version {major}.{minor}")),
    };
    let prelude = 8 + len_size;
    let len_field = bytes
        .get(8..prelude)
        .ok_or_else(|| format!("truncated header: the file ends after {} bytes, inside the header length", bytes.len()))?;
    let header_len: u64 = match *len_field {
        [a, b] => u64::from(u16::from_le_bytes([a, b])),
        [a, b, c, d] => u64::from(u32::from_le_bytes([a, b, c, d])),
        _ => return Err("internal error: bad header length field".into()),
    };
    let rest = bytes.get(prelude..).unwrap_or_default();
    let end = usize::try_from(header_len).ok().filter(|&n| n <= rest.len()).ok_or_else(|| {
        format!("truncated header: declares {header_len} bytes, file has {} after the {prelude}-byte preamble", rest.len())
    })?;
    let (text, data) = rest.split_at(end);
    Ok((RawHeader { text, version: (major, minor) }, data))
}

/// Byte order of the stored elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Little,
    Big,
    Native,
}

/// What the header dict says.
#[derive(Debug)]
struct Header {
    dtype: DType,
    order: Order,
    fortran: bool,
    /// The shape as declared (u64 so that messages can show what did not fit).
    shape: Vec<u64>,
}

/// Python's repr of a shape tuple: `()`, `(3,)`, `(2, 3)`.
fn py_shape<T: std::fmt::Display>(shape: &[T]) -> String {
    let mut s = String::from("(");
    for (i, d) in shape.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{d}");
    }
    if shape.len() == 1 {
        s.push(',');
    }
    s.push(')');
    s
}

/// Validate the shape against the data present and build the array.
fn decode(h: &Header, data: &[u8]) -> std::result::Result<DynArray, String> {
    let shape = check_size(h, data.len() as u64)?;
    // From here on every allocation is bounded by the size of the input.
    let order = h.order;
    macro_rules! dec {
        ($t:ty, $n:literal) => {
            match order {
                Order::Little => chunks::<$n>(data).map(<$t>::from_le_bytes).collect::<Vec<$t>>(),
                Order::Big => chunks::<$n>(data).map(<$t>::from_be_bytes).collect::<Vec<$t>>(),
                Order::Native => chunks::<$n>(data).map(<$t>::from_ne_bytes).collect::<Vec<$t>>(),
            }
        };
    }
    let f = h.fortran;
    Ok(match h.dtype {
        DType::F16 => DynArray::F16(build(&shape, f, dec!(f16, 2))?),
        DType::F32 => DynArray::F32(build(&shape, f, dec!(f32, 4))?),
        DType::F64 => DynArray::F64(build(&shape, f, dec!(f64, 8))?),
        DType::I32 => DynArray::I32(build(&shape, f, dec!(i32, 4))?),
        DType::I64 => DynArray::I64(build(&shape, f, dec!(i64, 8))?),
        DType::U8 => DynArray::U8(build(&shape, f, data.to_vec())?),
        DType::Bool => DynArray::Bool(build(&shape, f, data.iter().map(|&b| b != 0).collect())?),
    })
}

/// Check the declared shape against `data_len`, the number of data bytes present:
/// the shape as `usize`s, once its size is known to be addressable and to match the
/// data exactly. Nothing proportional to the shape is allocated.
fn check_size(h: &Header, data_len: u64) -> std::result::Result<Vec<usize>, String> {
    let size = h.dtype.size();
    let overflow = || format!("shape {} overflows: a {} array that large cannot be addressed", py_shape(&h.shape), h.dtype);
    // ndarray's rule: the product of the non-zero axis lengths, and its size in
    // bytes, must fit in isize, even when another axis is 0.
    let mut shape = Vec::with_capacity(h.shape.len());
    let mut nonzero: usize = 1;
    for &d in &h.shape {
        let d = usize::try_from(d).map_err(|_| overflow())?;
        if d != 0 {
            nonzero = nonzero.checked_mul(d).ok_or_else(overflow)?;
        }
        shape.push(d);
    }
    let max = isize::MAX.unsigned_abs();
    if nonzero.checked_mul(size).is_none_or(|b| b > max) {
        return Err(overflow());
    }
    let count = if shape.contains(&0) { 0 } else { nonzero };
    // Cannot overflow: checked above.
    let nbytes = count.saturating_mul(size) as u64;
    if data_len < nbytes {
        return Err(format!("truncated data: shape {} {} needs {nbytes} bytes, file has {data_len}", py_shape(&h.shape), h.dtype));
    }
    if data_len > nbytes {
        return Err(format!("trailing bytes after the data: {} extra bytes", data_len - nbytes));
    }
    Ok(shape)
}

/// Decode the elements of a checked `shape` from `r`, a chunk at a time: the only
/// allocation proportional to the data is the array itself (no copy of the file).
/// A read error (the file shrank since its size was checked) is "cannot read: ...".
fn decode_stream(h: &Header, shape: &[usize], r: &mut impl io::Read) -> std::result::Result<DynArray, String> {
    let count: usize = if shape.contains(&0) { 0 } else { shape.iter().product() };
    fn elems<T, const N: usize>(r: &mut impl io::Read, count: usize, conv: impl Fn([u8; N]) -> T) -> std::result::Result<Vec<T>, String> {
        let mut v = Vec::with_capacity(count);
        let mut buf = vec![0u8; (CHUNK / N).min(count) * N];
        let mut left = count;
        while left > 0 {
            let k = left.min(CHUNK / N);
            r.read_exact(&mut buf[..k * N]).map_err(|e| format!("cannot read: {e}"))?;
            v.extend(chunks::<N>(&buf[..k * N]).map(&conv));
            left -= k;
        }
        Ok(v)
    }
    macro_rules! dec {
        ($t:ty, $n:literal) => {
            match h.order {
                Order::Little => elems::<$t, $n>(r, count, <$t>::from_le_bytes)?,
                Order::Big => elems::<$t, $n>(r, count, <$t>::from_be_bytes)?,
                Order::Native => elems::<$t, $n>(r, count, <$t>::from_ne_bytes)?,
            }
        };
    }
    let f = h.fortran;
    Ok(match h.dtype {
        DType::F16 => DynArray::F16(build(shape, f, dec!(f16, 2))?),
        DType::F32 => DynArray::F32(build(shape, f, dec!(f32, 4))?),
        DType::F64 => DynArray::F64(build(shape, f, dec!(f64, 8))?),
        DType::I32 => DynArray::I32(build(shape, f, dec!(i32, 4))?),
        DType::I64 => DynArray::I64(build(shape, f, dec!(i64, 8))?),
        DType::U8 => DynArray::U8(build(shape, f, elems::<u8, 1>(r, count, |[b]| b)?)?),
        DType::Bool => DynArray::Bool(build(shape, f, elems::<bool, 1>(r, count, |[b]| b != 0)?)?),
    })
}

/// Fixed-size chunks of `data` (whose length is a multiple of `N`).
fn chunks<const N: usize>(data: &[u8]) -> impl Iterator<Item = [u8; N]> + '_ {
    data.chunks_exact(N).map(|c| {
        let mut b = [0u8; N];
        b.copy_from_slice(c);
        b
    })
}

/// Make an array of `shape` from elements stored in C or Fortran order; the
/// result is always in standard (C) layout.
fn build<T: Clone>(shape: &[usize], fortran: bool, v: Vec<T>) -> std::result::Result<ArrayD<T>, String> {
    let a = if fortran { ArrayD::from_shape_vec(IxDyn(shape).f(), v) } else { ArrayD::from_shape_vec(IxDyn(shape), v) }
        .map_err(|e| format!("shape {}: {e}", py_shape(shape)))?;
    Ok(if a.is_standard_layout() { a } else { a.as_standard_layout().into_owned() })
}

// ---------------------------------------------------------------------------
// The header dict: a tiny parser for the Python literal NumPy writes.
// ---------------------------------------------------------------------------

/// A parsed Python literal; `start..end` is its span in the header text.
#[derive(Debug)]
struct Value {
    kind: Kind,
    start: usize,
    end: usize,
}

#[derive(Debug)]
enum Kind {
    Str(String),
    Bool(bool),
    None,
    /// An integer literal; `digits` is the span of its digits (and underscores).
    /// Kept as a span so that a header of many integers costs no allocation each.
    Int {
        negative: bool,
        digits: (usize, usize),
    },
    /// A number that is not an integer (`3.0`, `1e5`, `2j`, `0x10`).
    OtherNumber,
    Tuple(Vec<Value>),
    /// A list; only ever a structured dtype's field list, so the items are not kept.
    List,
}

/// A recursive-descent parser over the header bytes. Everything syntactic is
/// ASCII, so it works on bytes for both latin-1 (1.0/2.0) and UTF-8 (3.0) headers;
/// only string contents and messages are decoded.
struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    /// Version 3.0 headers are UTF-8, older ones latin-1.
    utf8: bool,
    /// Python 2 wrote `3L` for long integers; NumPy accepts it in 1.0/2.0 files.
    allow_long: bool,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')) {
            self.pos += 1;
        }
    }

    fn found(&self) -> String {
        match self.peek() {
            Some(b) if b.is_ascii() => format!("{:?} at position {}", char::from(b), self.pos),
            Some(b) => format!("byte 0x{b:02X} at position {}", self.pos),
            None => "the end of the header".into(),
        }
    }

    fn expected(&self, what: &str) -> String {
        format!("expected {what}, found {}", self.found())
    }

    fn eat(&mut self, c: u8, what: &str) -> std::result::Result<(), String> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    /// Header bytes as text, in the header's encoding.
    fn decode(&self, bytes: &[u8]) -> String {
        if self.utf8 {
            String::from_utf8_lossy(bytes).into_owned()
        } else {
            bytes.iter().map(|&b| char::from(b)).collect()
        }
    }

    fn text(&self, start: usize, end: usize) -> String {
        self.decode(self.s.get(start..end).unwrap_or_default())
    }

    fn string(&mut self) -> std::result::Result<String, String> {
        let start = self.pos;
        let quote = match self.peek() {
            Some(q @ (b'\'' | b'"')) => q,
            _ => return Err(self.expected("a string")),
        };
        self.pos += 1;
        loop {
            match self.peek() {
                Some(c) if c == quote => {
                    self.pos += 1;
                    return Ok(self.text(start + 1, self.pos - 1));
                }
                Some(b'\\') => return Err(format!("escape sequences in strings are not supported (position {})", self.pos)),
                Some(b'\n' | b'\r') | None => return Err(format!("unterminated string starting at position {start}")),
                Some(_) => self.pos += 1,
            }
        }
    }

    fn number(&mut self) -> std::result::Result<Kind, String> {
        let mut negative = false;
        if let Some(sign @ (b'-' | b'+')) = self.peek() {
            negative = sign == b'-';
            self.pos += 1;
            self.ws();
        }
        let start = self.pos;
        // Python allows underscores between digits.
        while matches!(self.peek(), Some(c) if c.is_ascii_digit() || (c == b'_' && self.pos > start)) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.expected("a number"));
        }
        let digits = (start, self.pos);
        let word = |c: u8| c.is_ascii_alphanumeric() || c == b'.' || c == b'_';
        match self.peek() {
            Some(b'L' | b'l') if self.allow_long => {
                self.pos += 1;
                Ok(Kind::Int { negative, digits })
            }
            Some(c) if word(c) => {
                while matches!(self.peek(), Some(c) if word(c)) {
                    self.pos += 1;
                }
                Ok(Kind::OtherNumber)
            }
            _ => Ok(Kind::Int { negative, digits }),
        }
    }

    /// The value of an integer literal, or `None` when it does not fit in 64 bits.
    fn int_value(&self, digits: (usize, usize)) -> Option<u64> {
        let mut d: u64 = 0;
        for &c in self.s.get(digits.0..digits.1)? {
            if c != b'_' {
                d = d.checked_mul(10)?.checked_add(u64::from(c.wrapping_sub(b'0')))?;
            }
        }
        Some(d)
    }

    /// Elements of a tuple or list up to `close`, and whether a comma was seen.
    fn sequence(&mut self, close: u8, depth: usize) -> std::result::Result<(Vec<Value>, bool), String> {
        let mut items = Vec::new();
        let mut comma = false;
        loop {
            self.ws();
            if self.peek() == Some(close) {
                self.pos += 1;
                return Ok((items, comma));
            }
            items.push(self.value(depth + 1)?);
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    comma = true;
                }
                Some(c) if c == close => {}
                _ => {
                    let what = format!("',' or '{}'", char::from(close));
                    return Err(self.expected(&what));
                }
            }
        }
    }

    fn value(&mut self, depth: usize) -> std::result::Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err(format!("nested more than {MAX_DEPTH} levels deep"));
        }
        self.ws();
        let start = self.pos;
        let kind = match self.peek() {
            Some(b'\'' | b'"') => Kind::Str(self.string()?),
            Some(b'(') => {
                self.pos += 1;
                let (mut items, comma) = self.sequence(b')', depth)?;
                if items.len() == 1 && !comma {
                    // `(x)` is a parenthesised expression, not a tuple.
                    return match items.pop() {
                        Some(v) => Ok(v),
                        None => Err("internal error: empty parenthesised expression".into()),
                    };
                }
                Kind::Tuple(items)
            }
            Some(b'[') => {
                self.pos += 1;
                self.sequence(b']', depth)?;
                Kind::List
            }
            Some(c) if c.is_ascii_digit() || c == b'-' || c == b'+' => self.number()?,
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_') {
                    self.pos += 1;
                }
                match self.s.get(start..self.pos) {
                    Some(b"True") => Kind::Bool(true),
                    Some(b"False") => Kind::Bool(false),
                    Some(b"None") => Kind::None,
                    _ => {
                        let name = self.text(start, self.pos);
                        return Err(format!("unexpected name {name:?} at position {start}"));
                    }
                }
            }
            _ => return Err(self.expected("a value")),
        };
        Ok(Value { kind, start, end: self.pos })
    }

    /// The top-level dict: `(key, value)` pairs in file order.
    fn dict(&mut self) -> std::result::Result<Vec<(String, Value)>, String> {
        self.ws();
        self.eat(b'{', "'{' at the start of the header dict")?;
        let mut entries = Vec::new();
        loop {
            self.ws();
            if self.peek() == Some(b'}') {
                break;
            }
            let key = match self.peek() {
                Some(b'\'' | b'"') => self.string()?,
                _ => return Err(self.expected("a string key or '}'")),
            };
            self.ws();
            self.eat(b':', &format!("':' after key {key:?}"))?;
            let value = self.value(1)?;
            entries.push((key, value));
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {}
                _ => return Err(self.expected("',' or '}'")),
            }
        }
        self.pos += 1; // the '}'
        self.ws();
        if self.pos != self.s.len() {
            return Err(format!("unexpected text after the header dict at position {}", self.pos));
        }
        Ok(entries)
    }

    /// The start of the header, quoted, for error messages.
    fn excerpt(&self) -> String {
        const MAX: usize = 120;
        let head = self.decode(self.s.get(..MAX).unwrap_or(self.s));
        let head = head.trim_end();
        if self.s.len() > MAX {
            format!("{head:?}...")
        } else {
            format!("{head:?}")
        }
    }
}

fn parse_header(raw: &[u8], version: (u8, u8)) -> std::result::Result<Header, String> {
    let utf8 = version.0 >= 3;
    if utf8 {
        std::str::from_utf8(raw).map_err(|e| format!("malformed header: not valid UTF-8 ({e})"))?;
    }
    let mut p = Parser { s: raw, pos: 0, utf8, allow_long: !utf8 };
    let entries = p.dict();
    let malformed = |msg: String| format!("malformed header: {msg}; header is {}", p.excerpt());
    let entries = entries.map_err(malformed)?;

    let (mut descr, mut fortran, mut shape) = (None, None, None);
    for (key, value) in entries {
        let slot = match key.as_str() {
            "descr" => &mut descr,
            "fortran_order" => &mut fortran,
            "shape" => &mut shape,
            other => {
                return Err(malformed(format!("unexpected key {other:?} (a .npy header has exactly 'descr', 'fortran_order' and 'shape')")))
            }
        };
        if slot.replace(value).is_some() {
            return Err(malformed(format!("duplicate key {key:?}")));
        }
    }
    let missing = |k: &str| malformed(format!("missing key '{k}'"));
    let descr = descr.ok_or_else(|| missing("descr"))?;
    let fortran = fortran.ok_or_else(|| missing("fortran_order"))?;
    let shape = shape.ok_or_else(|| missing("shape"))?;

    let (dtype, order) = match &descr.kind {
        Kind::Str(s) => parse_descr(s)?,
        Kind::List => return Err("structured dtypes are not supported".into()),
        _ => return Err(malformed(format!("'descr' must be a type string such as '<f4', got {}", p.text(descr.start, descr.end)))),
    };
    let fortran = match fortran.kind {
        Kind::Bool(b) => b,
        _ => return Err(malformed(format!("'fortran_order' must be True or False, got {}", p.text(fortran.start, fortran.end)))),
    };
    let shape_text = p.text(shape.start, shape.end);
    let bad_shape = || malformed(format!("'shape' must be a tuple of non-negative integers, got {shape_text}"));
    let Kind::Tuple(items) = &shape.kind else {
        return Err(bad_shape());
    };
    let mut dims = Vec::with_capacity(items.len());
    for item in items {
        let Kind::Int { negative, digits } = item.kind else {
            return Err(bad_shape());
        };
        let Some(d) = p.int_value(digits) else {
            let digits = p.text(digits.0, digits.1);
            return Err(format!("shape {shape_text} overflows: dimension {digits} does not fit in 64 bits"));
        };
        if negative && d != 0 {
            return Err(bad_shape());
        }
        dims.push(d);
    }
    Ok(Header { dtype, order, fortran, shape: dims })
}

/// Parse a NumPy type string such as `<f4` into a dtype and byte order.
fn parse_descr(descr: &str) -> std::result::Result<(DType, Order), String> {
    let mut chars = descr.chars();
    let (order, rest) = match chars.next() {
        Some('<') => (Order::Little, chars.as_str()),
        Some('>') => (Order::Big, chars.as_str()),
        Some('=' | '|') => (Order::Native, chars.as_str()),
        _ => (Order::Native, descr),
    };
    let mut rest_chars = rest.chars();
    let kind = rest_chars.next();
    let size_text = rest_chars.as_str();
    let size: Option<u32> =
        if !size_text.is_empty() && size_text.bytes().all(|b| b.is_ascii_digit()) { size_text.parse().ok() } else { None };
    let dtype = match (kind, size) {
        (Some('f'), Some(2)) => Some(DType::F16),
        (Some('f'), Some(4)) => Some(DType::F32),
        (Some('f'), Some(8)) => Some(DType::F64),
        (Some('u'), Some(1)) => Some(DType::U8),
        (Some('i'), Some(4)) => Some(DType::I32),
        (Some('i'), Some(8)) => Some(DType::I64),
        (Some('b'), Some(1)) => Some(DType::Bool),
        _ => None,
    };
    if let Some(dtype) = dtype {
        return Ok((dtype, order));
    }
    let what = match (kind, size) {
        (Some('O'), _) => return Err("object arrays are not supported".into()),
        (Some('c'), _) => "complex".to_string(),
        (Some('i'), Some(n)) => format!("int{}", n.saturating_mul(8)),
        (Some('u'), Some(n)) => format!("uint{}", n.saturating_mul(8)),
        (Some('f'), Some(n)) => format!("float{}", n.saturating_mul(8)),
        (Some('b'), _) => "bool of unusual size".into(),
        (Some('V'), _) => "void (raw bytes)".into(),
        (Some('S' | 'a'), _) => "byte string".into(),
        (Some('U'), _) => "unicode string".into(),
        (Some('M'), _) => "datetime64".into(),
        (Some('m'), _) => "timedelta64".into(),
        _ => "not a type string NumPy writes".into(),
    };
    Err(format!("unsupported dtype {descr:?} ({what}); supported are float16, float32, float64, uint8, int32, int64 and bool"))
}

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

/// NumPy's type string for a dtype, as written.
fn descr(d: DType) -> &'static str {
    match d {
        DType::F16 => "<f2",
        DType::F32 => "<f4",
        DType::F64 => "<f8",
        DType::U8 => "|u1",
        DType::I32 => "<i4",
        DType::I64 => "<i8",
        DType::Bool => "|b1",
    }
}

/// Magic, version, header length and the padded header, exactly as NumPy writes them.
fn header_bytes(a: &DynArray) -> io::Result<Vec<u8>> {
    let shape = a.shape();
    let mut dict = format!("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr(a.dtype()), py_shape(shape));
    // Spare room so the first axis can grow in place (numpy.lib.format).
    if let Some(first) = shape.first() {
        let digits = first.to_string().len();
        dict.extend(std::iter::repeat_n(' ', GROWTH_AXIS_MAX_DIGITS.saturating_sub(digits)));
    }
    let hlen = dict.len() + 1; // + the final '\n'
    for (major, len_size) in [(1u8, 2usize), (2, 4)] {
        let prelude = MAGIC.len() + 2 + len_size;
        let padlen = ARRAY_ALIGN - (prelude + hlen) % ARRAY_ALIGN;
        let total = hlen + padlen;
        let len_field = if major == 1 {
            match u16::try_from(total) {
                Ok(n) => n.to_le_bytes().to_vec(),
                Err(_) => continue,
            }
        } else {
            match u32::try_from(total) {
                Ok(n) => n.to_le_bytes().to_vec(),
                Err(_) => break,
            }
        };
        let mut out = Vec::with_capacity(prelude + total);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[major, 0]);
        out.extend_from_slice(&len_field);
        out.extend_from_slice(dict.as_bytes());
        out.extend(std::iter::repeat_n(b' ', padlen));
        out.push(b'\n');
        return Ok(out);
    }
    Err(io::Error::new(io::ErrorKind::InvalidInput, format!("the .npy header for shape {} exceeds 4 GiB", py_shape(shape))))
}

/// Feed the little-endian, C-order data to `sink` in chunks of about [`CHUNK`] bytes.
fn for_each_chunk<E>(a: &DynArray, mut sink: impl FnMut(&[u8]) -> std::result::Result<(), E>) -> std::result::Result<(), E> {
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK.min(a.len().saturating_mul(a.dtype().size())) + 8);
    macro_rules! go {
        ($arr:expr, $conv:expr) => {{
            for &v in $arr.iter() {
                buf.extend_from_slice(&$conv(v));
                if buf.len() >= CHUNK {
                    sink(&buf)?;
                    buf.clear();
                }
            }
        }};
    }
    match a {
        DynArray::F16(x) => go!(x, |v: f16| v.to_le_bytes()),
        DynArray::F32(x) => go!(x, |v: f32| v.to_le_bytes()),
        DynArray::F64(x) => go!(x, |v: f64| v.to_le_bytes()),
        DynArray::U8(x) => go!(x, |v: u8| [v]),
        DynArray::I32(x) => go!(x, |v: i32| v.to_le_bytes()),
        DynArray::I64(x) => go!(x, |v: i64| v.to_le_bytes()),
        DynArray::Bool(x) => go!(x, |v: bool| [u8::from(v)]),
    }
    if !buf.is_empty() {
        sink(&buf)?;
    }
    Ok(())
}

/// Serialise an array to `.npy` bytes, exactly as `numpy.save` would.
///
/// Format 1.0 (2.0 when the header needs more than 65535 bytes, i.e. arrays with
/// thousands of dimensions), little-endian, C order, whatever the memory layout
/// of `a`.
///
/// # Panics
/// Only if the header would exceed 4 GiB (hundreds of millions of dimensions),
/// which the format cannot express; [`write_to`] returns an error instead.
///
/// # Examples
/// ```
/// use ndarray::{arr1, ArrayD};
/// use xent::{npy, DynArray};
///
/// let a = DynArray::I64(arr1(&[1i64, 2, 3]).into_dyn());
/// let bytes = npy::to_bytes(&a);
/// assert_eq!(&bytes[..10], b"\x93NUMPY\x01\x00\x76\x00"); // version 1.0, 118-byte header
/// assert!(bytes[10..128].starts_with(b"{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }"));
/// assert_eq!(bytes.len(), 128 + 3 * 8);
/// assert_eq!(npy::from_bytes(&bytes, "a.npy").unwrap(), a);
/// ```
pub fn to_bytes(a: &DynArray) -> Vec<u8> {
    let mut out = match header_bytes(a) {
        Ok(h) => h,
        Err(e) => panic!("{e}"),
    };
    out.reserve(a.len().saturating_mul(a.dtype().size()));
    let Ok(()) = for_each_chunk::<Infallible>(a, |c| {
        out.extend_from_slice(c);
        Ok(())
    });
    out
}

/// Write an array in `.npy` format to any writer (the same bytes as [`to_bytes`]),
/// streaming the data in 64 KiB chunks.
///
/// # Errors
/// The first error `w` returns; what was written before it stays written.
///
/// ```
/// use xent::{npy, DynArray};
/// let a = DynArray::I64(ndarray::array![1i64, 2].into_dyn());
/// let mut buf = Vec::new();
/// npy::write_to(&mut buf, &a).unwrap();
/// assert_eq!(&buf[..6], b"\x93NUMPY");
/// assert_eq!(npy::from_bytes(&buf, "buf").unwrap(), a);
/// ```
pub fn write_to(w: &mut impl Write, a: &DynArray) -> io::Result<()> {
    w.write_all(&header_bytes(a)?)?;
    for_each_chunk(a, |c| w.write_all(c))?;
    w.flush()
}

/// Counter making temporary names unique within the process.
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Create a new, uniquely named temporary file next to `path`.
fn create_temp(path: &Path) -> io::Result<(PathBuf, fs::File)> {
    let file_name = path.file_name().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path does not name a file"))?;
    let mut last = None;
    for _ in 0..100 {
        let n = TMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut tmp_name = file_name.to_os_string();
        tmp_name.push(format!(".tmp-{}-{n}", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        match fs::OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("could not create a unique temporary file")))
}

/// Where [`write()`] puts an array, decided from what is at the path (see
/// [`output_target`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputTarget {
    /// Replace (or create) this regular file atomically: a temporary file in the same
    /// directory, renamed over it. The path given, or the file a symbolic link at the
    /// path points to (the link itself stays).
    Replace(PathBuf),
    /// Create this file under `/dev`, `/proc` or `/sys` without ever replacing
    /// anything: a temporary file, hard-linked to the name (which fails if the name
    /// appeared meanwhile), then unlinked.
    CreateNew(PathBuf),
    /// Open this existing FIFO, character device, or file under `/dev`, `/proc` or
    /// `/sys` (a `/dev/fd/N` link to a regular file) and write into it in place;
    /// `truncate` for a regular file.
    Direct {
        /// The path as given (the kernel follows its links).
        path: PathBuf,
        /// Truncate first (a regular file).
        truncate: bool,
    },
    /// The process's standard output (`/dev/stdout`, `/dev/fd/1`, `/proc/self/fd/1`):
    /// written through the open descriptor, which keeps its mode (append, offset).
    Stdout,
    /// The process's standard error (`/dev/stderr`, `/dev/fd/2`, `/proc/self/fd/2`).
    Stderr,
}

/// Whether `p` lies under `/dev`, `/proc` or `/sys`, as written (made absolute) or
/// once its directory's links are resolved.
fn under_system_dir(p: &Path) -> bool {
    use std::path::Component;
    let sys = |q: &Path| {
        let mut c = q.components();
        matches!(c.next(), Some(Component::RootDir))
            && matches!(c.next(), Some(Component::Normal(d)) if d == "dev" || d == "proc" || d == "sys")
    };
    let abs = if p.is_absolute() { p.to_path_buf() } else { std::env::current_dir().map_or_else(|_| p.to_path_buf(), |d| d.join(p)) };
    sys(&abs) || abs.parent().and_then(|d| d.canonicalize().ok()).is_some_and(|d| sys(&d))
}

/// Follow a chain of symbolic links from `p` (at most 40, as Linux does) to the
/// first path that is not a link: what the link points to, existing or not.
fn follow_links(p: &Path) -> io::Result<PathBuf> {
    let mut cur = p.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                let t = fs::read_link(&cur)?;
                cur = if t.is_absolute() { t } else { cur.parent().map_or_else(|| t.clone(), |d| d.join(&t)) };
            }
            _ => return Ok(cur),
        }
    }
    Err(io::Error::other("too many levels of symbolic links"))
}

/// Decide how [`write()`] writes to `path`, without writing anything:
///
/// - a FIFO or character device (also through a link) is written directly, never
///   renamed over;
/// - `/dev/stdout` and `/dev/stderr` (and their `/dev/fd/N`, `/proc/self/fd/N` forms)
///   are the process's own descriptors;
/// - anything else under `/dev`, `/proc` or `/sys` is never renamed over: an existing
///   file is written in place, a new one is created without replacing;
/// - a symbolic link is followed: the file it points to is replaced (or created)
///   atomically in that file's directory, and the link stays;
/// - otherwise the path itself is replaced (or created) atomically.
///
/// # Errors
/// [`Error::Io`] for a path that does not name a file, a block device or socket, a
/// loop of links.
///
/// ```
/// use std::path::Path;
/// use xent::npy::{output_target, OutputTarget};
/// assert_eq!(output_target(Path::new("/dev/stdout")).unwrap(), OutputTarget::Stdout);
/// assert!(matches!(output_target(Path::new("/dev/null")).unwrap(), OutputTarget::Direct { .. }));
/// assert_eq!(output_target(Path::new("no-such-dir/out.npy")).unwrap(), OutputTarget::Replace("no-such-dir/out.npy".into()));
/// ```
pub fn output_target(path: &Path) -> Result<OutputTarget> {
    let name = path.display().to_string();
    if path.file_name().is_none() {
        return Err(io_err(&name, "the output path does not name a file"));
    }
    let s = path.as_os_str();
    if s == "/dev/stdout" || s == "/dev/fd/1" || s == "/proc/self/fd/1" {
        return Ok(OutputTarget::Stdout);
    }
    if s == "/dev/stderr" || s == "/dev/fd/2" || s == "/proc/self/fd/2" {
        return Ok(OutputTarget::Stderr);
    }
    let resolved = follow_links(path).map_err(|e| io_err(&name, format!("cannot resolve the output path: {e}")))?;
    let system = under_system_dir(path) || under_system_dir(&resolved);
    match fs::metadata(path) {
        Ok(m) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::FileTypeExt;
                let t = m.file_type();
                if t.is_fifo() || t.is_char_device() {
                    return Ok(OutputTarget::Direct { path: path.to_path_buf(), truncate: false });
                }
                if t.is_block_device() || t.is_socket() {
                    return Err(io_err(&name, "is a block device or socket; refusing to write to it"));
                }
            }
            if system {
                if m.is_dir() {
                    return Err(io_err(&name, "exists and is a directory"));
                }
                return Ok(OutputTarget::Direct { path: path.to_path_buf(), truncate: true });
            }
            // The file a link points to, whatever links its directories hold.
            Ok(OutputTarget::Replace(if resolved == path { resolved } else { fs::canonicalize(path).unwrap_or(resolved) }))
        }
        Err(_) if system => Ok(OutputTarget::CreateNew(resolved)),
        Err(_) => Ok(OutputTarget::Replace(resolved)),
    }
}

/// Write an array to a `.npy` file, replacing a regular file atomically and writing
/// through what must not be replaced; [`output_target`] says which.
///
/// A regular file (or a new one) is written atomically: the data goes to `path` plus a
/// unique temporary suffix in the same directory, is flushed to disk (`fsync`), and
/// the temporary file is then renamed over `path`. Readers see either the old file or
/// the complete new one, never a partial file. On any failure the temporary file is
/// removed and nothing at `path` is created or changed. A symbolic link at `path` is
/// followed: the file it points to is replaced that way and the link stays. A FIFO,
/// a character device, `/dev/stdout` and anything else under `/dev`, `/proc` or
/// `/sys` is written in place and never renamed over (opening a FIFO waits for a
/// reader).
///
/// # Errors
/// [`Error::Io`] naming `path`, with the failed step and the OS reason (for
/// example a missing directory, no permission, or a full disk).
///
/// ```
/// use xent::{npy, DynArray};
/// let path = std::env::temp_dir().join(format!("xent-doc-write-{}.npy", std::process::id()));
/// npy::write(&path, &DynArray::F64(ndarray::array![0.5f64].into_dyn())).unwrap();
/// assert_eq!(npy::read(&path).unwrap().shape(), &[1]);
/// std::fs::remove_file(&path).unwrap();
/// // a missing directory is an error naming the path, not a panic
/// assert!(npy::write(std::path::Path::new("/no/such/dir/x.npy"), &DynArray::F64(ndarray::array![0.5f64].into_dyn())).is_err());
/// ```
pub fn write(path: &Path, a: &DynArray) -> Result<()> {
    let name = path.display().to_string();
    let fail = |what: &str, e: io::Error| io_err(&name, format!("{what}: {e}"));
    match output_target(path)? {
        OutputTarget::Replace(p) => write_atomic(&p, &name, a, false),
        OutputTarget::CreateNew(p) => write_atomic(&p, &name, a, true),
        OutputTarget::Stdout => write_stream(&mut io::stdout().lock(), a).map_err(|e| fail("cannot write to standard output", e)),
        OutputTarget::Stderr => write_stream(&mut io::stderr().lock(), a).map_err(|e| fail("cannot write to standard error", e)),
        OutputTarget::Direct { path: p, truncate } => {
            let f = fs::OpenOptions::new().write(true).truncate(truncate).open(&p).map_err(|e| fail("cannot open", e))?;
            write_stream(&mut &f, a).map_err(|e| fail("cannot write", e))
        }
    }
}

/// The whole array to a stream, buffered, flushed.
fn write_stream(w: &mut impl Write, a: &DynArray) -> io::Result<()> {
    let mut b = io::BufWriter::with_capacity(CHUNK, w);
    write_to(&mut b, a)?;
    b.flush()
}

fn write_atomic(path: &Path, name: &str, a: &DynArray, no_replace: bool) -> Result<()> {
    let fail = |what: &str, e: io::Error| io_err(name, format!("{what}: {e}"));
    let (tmp, file) = create_temp(path).map_err(|e| fail("cannot create a temporary file", e))?;
    let written = (|| -> io::Result<()> {
        let mut w = io::BufWriter::with_capacity(CHUNK, &file);
        write_to(&mut w, a)?;
        w.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()
    })();
    drop(file);
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(fail("cannot write", e));
    }
    let published = if no_replace { fs::hard_link(&tmp, path).and_then(|()| fs::remove_file(&tmp)) } else { fs::rename(&tmp, path) };
    if let Err(e) = published {
        let _ = fs::remove_file(&tmp);
        return Err(fail(if no_replace { "cannot create the file" } else { "cannot replace the file" }, e));
    }
    // Make the rename itself durable. The new file is already in place, so a
    // failure here is not reported as a failed write.
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
