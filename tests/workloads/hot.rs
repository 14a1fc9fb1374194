// A hot Rust method in a module and a generic type: hot SECONDS
use std::time::{Duration, Instant};

mod engine {
    pub struct Mixer<T> {
        pub seed: T,
    }

    impl Mixer<u64> {
        #[inline(never)]
        pub fn churn(&self, n: u64) -> u64 {
            let mut acc = self.seed;
            for i in 0..n {
                acc = acc.wrapping_mul(6364136223846793005).wrapping_add(i);
            }
            acc
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let secs: f64 = args.get(1).map(|s| s.parse().unwrap()).unwrap_or(2.0);
    let end = Instant::now() + Duration::from_secs_f64(secs);
    let m = engine::Mixer { seed: 7u64 };
    // from the arguments, so the compiler cannot fold the work away
    let n = 500_000 * args.len() as u64;
    let mut sink = 0u64;
    while Instant::now() < end {
        sink = sink.wrapping_add(m.churn(n));
    }
    println!("{}", sink == 1);
}
