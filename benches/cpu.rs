//! CPU time from /proc for the benches (included with `#[path]`; not a bench target of its own).
//! Wall time on a shared machine says as much about the neighbours as about the code measured.

use std::time::Duration;

/// CPU time (user + system, all threads) of this process and, with `children`, of the children
/// it has waited for; Linux only, 10 ms ticks, so only meaningful over long or many runs.
pub fn cpu_time(children: bool) -> Duration {
    let fields = if children { 4 } else { 2 };
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let after = stat.rsplit_once(')')?.1.to_owned();
            let ticks: Vec<u64> = after
                .split_whitespace()
                .skip(11)
                .take(fields)
                .filter_map(|f| f.parse().ok())
                .collect();
            Some(ticks.iter().sum::<u64>())
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}
