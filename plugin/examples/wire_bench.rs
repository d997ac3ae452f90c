//! Times the JSON readers of `wire` on 100-row pages (a sync page with the
//! four selected fields, and one of full 150-field records, as a tenant
//! that ignores `$select` sends): `cargo run --release -p ivanti-plugin
//! --example wire_bench`. Prints figures; asserts nothing.

use ivanti_plugin::wire::{read, Page, Rows};
use std::hint::black_box;
use std::time::Instant;

/// A page of 100 rows, each with `extra` members the plugin skips.
fn page(extra: usize) -> String {
    let rows: Vec<String> = (0..100)
        .map(|n| {
            let mut row = format!(
                r#"{{"IncidentNumber":{},"RecId":"C9DF0BC0489447FEAC558BA55AEF17B9","Status":"Active","Owner":"Jacob.Clerk""#,
                10_000 + n
            );
            for i in 0..extra {
                row.push_str(&match i % 4 {
                    0 => format!(r#","Field{i}":"some text\nwith an escape""#),
                    1 => format!(r#","Field{i}":null"#),
                    2 => format!(r#","Field{i}":{}.25"#, i * 7),
                    _ => format!(r#","Field{i}_Valid":"E9EC7ADA85A84F82A30474C6A5425046""#),
                });
            }
            row.push('}');
            row
        })
        .collect();
    format!(
        r#"{{"@odata.context":"/api/odata/$metadata#incidents","@odata.count":100,"value":[{}]}}"#,
        rows.join(",")
    )
}

/// Microseconds per read of `body`, best of five runs of `n` reads.
fn time(n: u32, body: &[u8], parse: impl Fn(&[u8]) -> usize) -> f64 {
    (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..n {
                black_box(parse(black_box(body)));
            }
            start.elapsed().as_secs_f64() * 1e6 / f64::from(n)
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    for (name, extra, n) in [
        ("sync page, 4 fields", 0, 20_000),
        ("full records, 150 fields", 146, 500),
    ] {
        let body = page(extra);
        let now = time(n, body.as_bytes(), |b| {
            match read::<Page>(b).unwrap().value {
                Rows::Records(r) => r.len(),
                _ => 0,
            }
        });
        println!("{name}: {} bytes, {now:.1} µs a page", body.len());
    }
}
