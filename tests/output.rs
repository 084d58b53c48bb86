//! Where `xent eval` writes (issue 8, item 8): a symbolic link is followed (the file
//! it points to is replaced atomically, the link stays), a FIFO or character device is
//! written through, `-o -` puts the .npy bytes on standard output and no `-o` prints
//! the result as text. Every case runs in a temporary directory with its own links,
//! FIFOs and device nodes; the real `/dev` is never written.

use std::fs;
use std::os::unix::fs::{symlink, FileTypeExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ndarray::{ArrayD, IxDyn};
use xent::npy::{output_target, OutputTarget};
use xent::DynArray;

const BIN: &str = env!("CARGO_BIN_EXE_xent");

struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("xent-output-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    fn no_temporaries(&self) {
        for e in walk(&self.0) {
            assert!(!e.to_string_lossy().contains(".tmp-"), "temporary file left: {}", e.display());
        }
    }
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for e in fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        if fs::symlink_metadata(&p).unwrap().is_dir() {
            v.extend(walk(&p));
        }
        v.push(p);
    }
    v
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn logits() -> DynArray {
    DynArray::F32(ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![2.0, 1.0, 0.1, 0.5, 2.5, 0.3]).unwrap())
}

/// `xent eval tf.nn.softmax --input logits=X` plus `extra`.
fn softmax(x: &Path, extra: &[&str]) -> Output {
    let mut a = vec!["eval".to_string(), "tf.nn.softmax".into(), "--input".into(), format!("logits={}", x.display())];
    a.extend(extra.iter().map(|s| s.to_string()));
    Command::new(BIN).args(&a).output().unwrap()
}

fn expected() -> DynArray {
    xent::registry::eval("tf.nn.softmax", vec![("logits".into(), logits())], vec![], None).unwrap()
}

fn ok(o: &Output) {
    assert!(o.status.success(), "exit {:?}: {}", o.status.code(), String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_symlink_is_followed_and_stays() {
    let d = Dir::new("link");
    let x = d.path("x.npy");
    xent::npy::write(&x, &logits()).unwrap();
    fs::create_dir(d.path("data")).unwrap();
    let real = d.path("data/real.npy");
    fs::write(&real, b"old contents").unwrap();
    // A chain: out.npy -> mid.npy -> data/real.npy (relative links).
    symlink("data/real.npy", d.path("mid.npy")).unwrap();
    let out = d.path("out.npy");
    symlink("mid.npy", &out).unwrap();
    ok(&softmax(&x, &["-o", out.to_str().unwrap()]));
    assert!(fs::symlink_metadata(&out).unwrap().file_type().is_symlink(), "the link was replaced");
    assert_eq!(fs::read_link(&out).unwrap(), Path::new("mid.npy"));
    assert!(fs::symlink_metadata(d.path("mid.npy")).unwrap().file_type().is_symlink());
    assert_eq!(xent::npy::read(&real).unwrap(), expected());
    d.no_temporaries();
    assert_eq!(output_target(&out).unwrap(), OutputTarget::Replace(fs::canonicalize(&real).unwrap()));
}

#[test]
fn a_dangling_symlink_creates_its_target() {
    let d = Dir::new("dangling");
    let x = d.path("x.npy");
    xent::npy::write(&x, &logits()).unwrap();
    let out = d.path("out.npy");
    symlink("new.npy", &out).unwrap();
    ok(&softmax(&x, &["-o", out.to_str().unwrap()]));
    assert!(fs::symlink_metadata(&out).unwrap().file_type().is_symlink());
    assert_eq!(xent::npy::read(&d.path("new.npy")).unwrap(), expected());
    d.no_temporaries();
}

#[test]
fn a_failure_leaves_the_linked_file_as_it_was() {
    let d = Dir::new("linkfail");
    let x = d.path("x.npy");
    xent::npy::write(&x, &logits()).unwrap();
    let real = d.path("real.npy");
    fs::write(&real, b"keep me").unwrap();
    let out = d.path("out.npy");
    symlink("real.npy", &out).unwrap();
    // A bad axis: the op fails after the output path was checked.
    let o = softmax(&x, &["--param", "axis=5", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(fs::read(&real).unwrap(), b"keep me");
    assert!(fs::symlink_metadata(&out).unwrap().file_type().is_symlink());
    d.no_temporaries();
    // A link to a directory is refused before any work; the link stays.
    fs::create_dir(d.path("sub")).unwrap();
    let to_dir = d.path("todir.npy");
    symlink("sub", &to_dir).unwrap();
    let o = softmax(&x, &["-o", to_dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a regular file"));
    assert!(fs::symlink_metadata(&to_dir).unwrap().file_type().is_symlink());
    assert!(walk(&d.path("sub")).is_empty());
}

#[test]
fn a_fifo_is_written_through() {
    let d = Dir::new("fifo");
    let x = d.path("x.npy");
    xent::npy::write(&x, &logits()).unwrap();
    let fifo = d.path("pipe");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let f2 = fifo.clone();
    let reader = std::thread::spawn(move || fs::read(f2).unwrap());
    ok(&softmax(&x, &["-o", fifo.to_str().unwrap()]));
    let bytes = reader.join().unwrap();
    assert_eq!(bytes, xent::npy::to_bytes(&expected()));
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO was replaced");
    // Through a link to the FIFO, too.
    let link = d.path("link");
    symlink("pipe", &link).unwrap();
    let f3 = fifo.clone();
    let reader = std::thread::spawn(move || fs::read(f3).unwrap());
    ok(&softmax(&x, &["-o", link.to_str().unwrap()]));
    assert_eq!(reader.join().unwrap(), xent::npy::to_bytes(&expected()));
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    d.no_temporaries();
}

/// A character device node of our own (a copy of /dev/null's numbers, made with
/// mknod in the temporary directory, where root may make one): written through,
/// never renamed over.
#[test]
fn a_character_device_is_written_through() {
    let d = Dir::new("chardev");
    let x = d.path("x.npy");
    xent::npy::write(&x, &logits()).unwrap();
    let null = d.path("null");
    let made = Command::new("mknod").arg(&null).args(["c", "1", "3"]).output().map(|o| o.status.success()).unwrap_or(false);
    if !made {
        eprintln!("skipped: mknod is not allowed here");
        return;
    }
    for target in [null.clone(), {
        let l = d.path("to-null");
        symlink("null", &l).unwrap();
        l
    }] {
        ok(&softmax(&x, &["-o", target.to_str().unwrap()]));
        assert!(fs::metadata(&target).unwrap().file_type().is_char_device(), "{} was replaced", target.display());
    }
    assert!(fs::symlink_metadata(d.path("to-null")).unwrap().file_type().is_symlink());
    d.no_temporaries();
}

#[test]
fn dash_writes_the_npy_bytes_to_stdout() {
    let d = Dir::new("dash");
    let x = d.path("x.npy");
    xent::npy::write(&x, &logits()).unwrap();
    let o = softmax(&x, &["-o", "-"]);
    ok(&o);
    assert_eq!(o.stdout, xent::npy::to_bytes(&expected()));
    assert!(!d.path("-").exists());
    // On error nothing reaches stdout.
    let o = softmax(&x, &["--param", "axis=7", "-o", "-"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
}

#[test]
fn without_o_the_result_is_printed_as_text() {
    let d = Dir::new("text");
    let x = d.path("x.npy");
    xent::npy::write(&x, &logits()).unwrap();
    let o = softmax(&x, &[]);
    ok(&o);
    let text = String::from_utf8(o.stdout).unwrap();
    let DynArray::F32(want) = expected() else { panic!() };
    // Two rows, each number reads back to the exact float32.
    assert_eq!(text.lines().count(), 2, "{text}");
    let nums: Vec<f32> = text.split(|c: char| "[], \n".contains(c)).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect();
    assert_eq!(nums, want.iter().copied().collect::<Vec<_>>());
    // The example value keeps its digits: 0.006760463 (float32).
    let big = d.path("big.npy");
    xent::npy::write(&big, &DynArray::F32(ArrayD::from_shape_vec(IxDyn(&[1, 3]), vec![1000.0, 995.0, 990.0]).unwrap())).unwrap();
    let y = d.path("y.npy");
    xent::npy::write(&y, &DynArray::I64(ArrayD::from_shape_vec(IxDyn(&[1]), vec![0]).unwrap())).unwrap();
    let o = Command::new(BIN)
        .args(["eval", "torch.nn.functional.cross_entropy", "--input"])
        .arg(format!("input={}", big.display()))
        .arg("--input")
        .arg(format!("target={}", y.display()))
        .output()
        .unwrap();
    ok(&o);
    let v: f64 = String::from_utf8(o.stdout).unwrap().trim().parse().unwrap();
    assert!((v - 0.006760463).abs() < 1e-9, "{v}");
    d.no_temporaries();
}

/// The decisions for system paths, taken without writing anything.
#[test]
fn system_paths_are_never_renamed_over() {
    assert_eq!(output_target(Path::new("/dev/stdout")).unwrap(), OutputTarget::Stdout);
    assert_eq!(output_target(Path::new("/proc/self/fd/1")).unwrap(), OutputTarget::Stdout);
    assert_eq!(output_target(Path::new("/dev/stderr")).unwrap(), OutputTarget::Stderr);
    // A new name under /dev is created without replacing, never via rename.
    let t = output_target(Path::new("/dev/xent-no-such-output.npy")).unwrap();
    assert!(matches!(t, OutputTarget::CreateNew(_)), "{t:?}");
    let t = output_target(Path::new("/proc/xent-no-such-output.npy")).unwrap();
    assert!(matches!(t, OutputTarget::CreateNew(_)), "{t:?}");
    // A link of our own into /dev (not written: only the decision is checked).
    let d = Dir::new("syslink");
    let l = d.path("to-dev");
    symlink("/dev/xent-no-such-output.npy", &l).unwrap();
    assert!(matches!(output_target(&l).unwrap(), OutputTarget::CreateNew(_)));
    assert!(matches!(output_target(Path::new("/")), Err(xent::Error::Io { .. })));
}

/// `-o /proc/self/fd/1` (what `/dev/stdout` links to) is the process's own standard
/// output, written through its descriptor: to a pipe, and to a file the caller
/// redirected it to, which keeps its inode (a rename would have replaced the name, and
/// for `/dev/stdout` as root, the system's link). procfs refuses renames, so a
/// regression could not damage anything here.
#[test]
fn stdout_by_its_proc_name_is_written_through() {
    use std::os::unix::fs::MetadataExt;
    let d = Dir::new("procfd");
    let x = d.path("x.npy");
    xent::npy::write(&x, &logits()).unwrap();
    let o = softmax(&x, &["-o", "/proc/self/fd/1"]);
    ok(&o);
    assert_eq!(o.stdout, xent::npy::to_bytes(&expected()));
    let redirected = d.path("stdout.npy");
    let f = fs::File::create(&redirected).unwrap();
    let inode = fs::metadata(&redirected).unwrap().ino();
    let st = Command::new(BIN)
        .args(["eval", "tf.nn.softmax", "--input"])
        .arg(format!("logits={}", x.display()))
        .args(["-o", "/proc/self/fd/1"])
        .stdout(f)
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(fs::metadata(&redirected).unwrap().ino(), inode, "the redirected file was replaced");
    assert_eq!(xent::npy::read(&redirected).unwrap(), expected());
    d.no_temporaries();
}
