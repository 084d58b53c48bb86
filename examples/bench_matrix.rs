//! The benchmark matrix of BENCHMARKS.md: memory bandwidth, then every op × shape ×
//! dtype with 1 and 2 threads, one JSON line per measurement (`xent::bench`).
//!
//! ```text
//! cargo run --release --example bench_matrix                 # everything (~5 min)
//! cargo run --release --example bench_matrix -- 8192x1000    # some shapes only
//! ```

use xent::bench::{membw, run, OPS};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let shapes: Vec<(usize, usize)> = if args.is_empty() {
        vec![(65536, 10), (8192, 1000), (4096, 32000), (1024, 128256)]
    } else {
        args.iter()
            .map(|s| {
                let (n, c) = s.split_once('x').expect("shape NxC");
                (n.parse().expect("N"), c.parse().expect("C"))
            })
            .collect()
    };
    for threads in [1, 2] {
        let m = membw(512 << 20, threads, 5).expect("membw");
        println!("{}", serde_json::json!({"membw": m.to_json()}));
        for &shape in &shapes {
            for dtype in ["float32", "bfloat16"] {
                for op in OPS {
                    match run(op, shape, dtype, threads, None) {
                        Ok(r) => {
                            eprintln!("{r}");
                            println!("{}", r.to_json());
                        }
                        Err(e) => eprintln!("{op} {dtype}: {e}"),
                    }
                }
            }
        }
    }
}
